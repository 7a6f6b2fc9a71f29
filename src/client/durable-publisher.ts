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
import { PendingTable } from './pending.js';

interface Pending {
  /** Its key in the acknowledgement table: stays the same across resends. */
  readonly key: number;
  /** The operation id of its last copy (a resend gets a new one). */
  opId: number;
  readonly topic: string;
  readonly headers: Headers;
  readonly payload: PayloadFields;
  /** Whether its last copy went to a connection that is gone. */
  lost: boolean;
}

export interface DurableHost {
  opId(): number;
  /** Appends a frame to the outgoing batch (throws a typed error when it cannot). */
  write(env: Envelope): void;
}

export class DurablePublisher {
  /** By operation id of the last copy sent. */
  private readonly pending = new Map<number, Pending>();
  /** The promises, by key, with one shared timer for every deadline (not a timer per publish). */
  private readonly acks = new PendingTable<PublishAck>();
  private nextKey = 0;

  constructor(private readonly host: DurableHost) {}

  get size(): number {
    return this.pending.size;
  }

  publish(
    topic: string,
    msgId: string | undefined,
    headers: Headers | undefined,
    payload: PayloadFields,
    timeoutMs: number,
  ): Promise<PublishAck> {
    const h: Headers = { ...headers, [HEADER_DURABLE]: '1', [HEADER_MSG_ID]: msgId ?? randomHex(12) };
    const p: Pending = { key: ++this.nextKey, opId: 0, topic, headers: h, payload, lost: false };
    const acked = this.acks.add(p.key, timeoutMs, () => {
      if (this.pending.get(p.opId) === p) this.pending.delete(p.opId);
      return new RequestError('CB_ERR_TIMEOUT', `the hub did not acknowledge the durable publish within ${timeoutMs} ms`, {
        details: { timeoutMs, msgId: h[HEADER_MSG_ID] },
      });
    });
    try {
      this.send(p);
    } catch (err) {
      this.acks.reject(p.key, err as CrossbusError);
    }
    return acked;
  }

  private send(p: Pending): void {
    const id = this.host.opId();
    const { payloadType, payload, payloadText } = p.payload;
    this.host.write(
      envelope(Kind.PUBLISH, { id, topic: p.topic, headers: p.headers, payloadType, payload, payloadText, timestamp: Date.now() }),
    );
    p.opId = id;
    p.lost = false;
    this.pending.set(id, p);
  }

  /** An OK: true when it answered a durable publish. */
  onOk(env: Envelope): boolean {
    const p = this.take(env.id);
    if (p === undefined) return false;
    this.acks.resolve(p.key, { stream: env.topic, seq: env.seq, duplicate: env.headers?.[HEADER_DUPLICATE] === '1' });
    return true;
  }

  /** An ERROR for a durable publish: the hub refused it (no stream, storage, access). */
  onError(id: number, error: CrossbusError): boolean {
    const p = this.take(id);
    if (p === undefined) return false;
    this.acks.reject(p.key, error);
    return true;
  }

  /** The connection dropped: every unanswered publish goes again on the next one. */
  connectionLost(): void {
    for (const p of this.pending.values()) p.lost = true;
  }

  /** Connected again: resend what the lost connection took with it. */
  resend(): void {
    const lost = [...this.pending.values()].filter((p) => p.lost);
    for (const p of lost) {
      this.pending.delete(p.opId);
      try {
        this.send(p);
      } catch (err) {
        this.acks.reject(p.key, err as CrossbusError);
      }
    }
  }

  rejectAll(error: CrossbusError): void {
    this.pending.clear();
    this.acks.rejectAll(error);
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p !== undefined) this.pending.delete(id);
    return p;
  }
}
