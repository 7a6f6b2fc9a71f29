import { readFrames, encodeFrame } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope, type Envelope } from '../../src/core/protocol/envelope.js';
import type { Transport, TransportCloseInfo, TransportHandlers } from '../../src/core/transport/transport.js';
import type { Broker } from '../../src/core/broker/broker.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

/**
 * A transport whose peer reads nothing until told to: what a stalled consumer looks like to the
 * broker (bytes pile up in bufferedAmount, drain never fires).
 */
export class StallableTransport implements Transport {
  readonly kind = 'test-stall';
  readonly framing = 'message' as const;
  readonly peer = 'test';
  handlers: TransportHandlers | undefined;
  stalled = false;
  buffered = 0;
  received: Envelope[] = [];
  closed: TransportCloseInfo | undefined;
  setHandlers(h: TransportHandlers): void {
    this.handlers = h;
  }
  send(chunk: Uint8Array): void {
    if (this.closed) throw new Error('closed');
    if (this.stalled) {
      this.buffered += chunk.length;
      this.pendingChunks.push(chunk);
      return;
    }
    readFrames(chunk, DEFAULT_FRAME_LIMITS, (e) => this.received.push({ ...e, payload: e.payload.slice() }));
  }
  pendingChunks: Uint8Array[] = [];
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.closed = { local: true, code, reason };
    this.handlers?.close(this.closed);
  }
  /** The peer sends frames. */
  inject(...envs: Envelope[]): void {
    for (const e of envs) this.handlers!.message(encodeFrame(e));
  }
  resume(): void {
    this.stalled = false;
    const chunks = this.pendingChunks.splice(0);
    this.buffered = 0;
    for (const c of chunks) readFrames(c, DEFAULT_FRAME_LIMITS, (e) => this.received.push({ ...e, payload: e.payload.slice() }));
    this.handlers?.drain?.();
  }
  errors(): string[] {
    return this.received.filter((e) => e.kind === Kind.ERROR).map((e) => JSON.parse(new TextDecoder().decode(e.payload)).code);
  }
}

export const hello = (name = 't'): Envelope =>
  envelope(Kind.HELLO, { payloadType: PayloadType.JSON, payload: new TextEncoder().encode(JSON.stringify({ versions: [1], name })) });

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Accepts a StallableTransport on the broker and completes the handshake. */
export async function openSession(broker: Broker): Promise<StallableTransport> {
  const t = new StallableTransport();
  broker.accept(t);
  t.inject(hello());
  await tick();
  if (t.received[0]?.kind !== Kind.WELCOME) throw new Error('no WELCOME');
  return t;
}
