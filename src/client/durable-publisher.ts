/**
 * Durable publishes that survive a lost connection: each carries a `msgId` (the caller's, or a
 * random one), and one that is not acknowledged when the connection drops is sent again after
 * the reconnect. The stream's duplicate window makes the resend harmless: a message the hub had
 * already stored comes back as `{ duplicate: true }` with its original seq, so it is stored once.
 * A publish settles when the hub answers, or fails after `timeoutMs` from the first attempt.
 */
import { RequestError, type CrossbusError } from '../core/errors/index.js';
import { Kind, envelope, type Envelope, type Headers, type PayloadFields } from '../core/protocol/envelope.js';
import { HEADER_DUPLICATE, HEADER_DURABLE, HEADER_MSG_ID, type PublishAck } from '../core/streams/wire.js';
import { randomHex } from '../core/util/random.js';

interface Pending {
  topic: string;
  headers: Headers;
  payload: PayloadFields;
  resolve(ack: PublishAck): void;
  reject(error: CrossbusError): void;
  timer: ReturnType<typeof setTimeout>;
  /** Whether its last copy went to a connection that is gone. */
  lost: boolean;
}

export interface DurableHost {
  opId(): number;
  /** Appends a frame to the outgoing batch (throws a typed error when it cannot). */
  write(env: Envelope): void;
}

export class DurablePublisher {
  /** By the op id of the latest copy sent. */
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly host: DurableHost) {}

  get size(): number {
    return this.pending.size;
  }

  publish(topic: string, msgId: string | undefined, headers: Headers | undefined, payload: PayloadFields, timeoutMs: number): Promise<PublishAck> {
    const h: Headers = { ...headers, [HEADER_DURABLE]: '1', [HEADER_MSG_ID]: msgId ?? randomHex(12) };
    return new Promise<PublishAck>((resolve, reject) => {
      const p: Pending = { topic, headers: h, payload, resolve, reject, lost: false, timer: undefined as never };
      const id = this.send(p);
      p.timer = setTimeout(() => {
        for (const [k, v] of this.pending) if (v === p) this.pending.delete(k);
        reject(new RequestError('CB_ERR_TIMEOUT', `the hub did not acknowledge the durable publish within ${timeoutMs} ms`, { details: { timeoutMs, msgId: h[HEADER_MSG_ID] } }));
      }, timeoutMs);
      void id;
    });
  }

  private send(p: Pending): number {
    const id = this.host.opId();
    const { payloadType, payload, payloadText } = p.payload;
    this.host.write(envelope(Kind.PUBLISH, { id, topic: p.topic, headers: p.headers, payloadType, payload, payloadText, timestamp: Date.now() }));
    this.pending.set(id, p);
    p.lost = false;
    return id;
  }

  /** An OK: true when it answered a durable publish. */
  onOk(env: Envelope): boolean {
    const p = this.take(env.id);
    if (p === undefined) return false;
    p.resolve({ stream: env.topic, seq: env.seq, duplicate: env.headers?.[HEADER_DUPLICATE] === '1' });
    return true;
  }

  /** An ERROR for a durable publish: the hub refused it (no stream, storage, access). */
  onError(id: number, error: CrossbusError): boolean {
    const p = this.take(id);
    if (p === undefined) return false;
    p.reject(error);
    return true;
  }

  /** The connection dropped: every unanswered publish goes again on the next one. */
  connectionLost(): void {
    for (const p of this.pending.values()) p.lost = true;
  }

  /** Connected again: resend what the lost connection took with it. */
  resend(): void {
    const lost = [...this.pending].filter(([, p]) => p.lost);
    for (const [id, p] of lost) {
      this.pending.delete(id);
      try {
        this.send(p);
      } catch (err) {
        clearTimeout(p.timer);
        p.reject(err as CrossbusError);
      }
    }
  }

  rejectAll(error: CrossbusError): void {
    const all = [...new Set(this.pending.values())];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}
