/**
 * A byte-stream transport whose incoming bytes a test pushes by hand, wrapped by the reframing
 * adapter the hub and the client use: what comes out are the chunks (whole frames) the layer
 * above would see, and the close the adapter reports.
 */
import { reframe } from '../../src/core/transport/reframe.js';
import { readFrames } from '../../src/core/protocol/codec.js';
import type { Envelope } from '../../src/core/protocol/envelope.js';
import type { FrameLimits } from '../../src/core/limits.js';
import type { Transport, TransportCloseInfo, TransportHandlers } from '../../src/core/transport/transport.js';

export class HandFedStream implements Transport {
  readonly kind = 'hand';
  readonly framing = 'stream' as const;
  readonly peer = 'hand:peer';
  readonly origin = 'https://a.example';
  readonly vouchedOrigin = 'https://b.example';
  handlers: TransportHandlers | undefined;
  sent: Array<[Uint8Array, number | undefined]> = [];
  closed: Array<[number | undefined, string | undefined]> = [];
  setHandlers(h: TransportHandlers): void {
    this.handlers = h;
  }
  send(chunk: Uint8Array, headroom?: number): void {
    this.sent.push([chunk, headroom]);
  }
  bufferedAmount(): number {
    return 42;
  }
  close(code?: number, reason?: string): void {
    this.closed.push([code, reason]);
  }
  /** Bytes arriving from the peer, chunk by chunk. */
  push(...chunks: Uint8Array[]): void {
    for (const c of chunks) this.handlers!.message(c);
  }
  /** The peer went away. */
  end(info: TransportCloseInfo = { local: false, code: 1000, reason: '' }): void {
    this.handlers!.close(info);
  }
}

/** A hand-fed stream under the adapter, with what the layer above receives. */
export function reframedStream(limits: FrameLimits) {
  const raw = new HandFedStream();
  const transport = reframe(raw, () => limits.maxFrameBytes);
  const chunks: Uint8Array[] = [];
  const closes: TransportCloseInfo[] = [];
  let drains = 0;
  transport.setHandlers({ message: (c) => chunks.push(c), close: (i) => closes.push(i), drain: () => drains++ });
  return {
    raw,
    transport,
    chunks,
    closes,
    drains: (): number => drains,
    /** Decodes what came up as the layer above would (throws its typed errors). */
    envelopes(): Envelope[] {
      const out: Envelope[] = [];
      for (const c of chunks) readFrames(c, limits, (env) => out.push(env));
      return out;
    },
  };
}
