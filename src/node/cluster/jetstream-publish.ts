/**
 * Publishes to JetStream, acknowledged: each resolves with its PubAck, the moment a quorum of the
 * stream's replicas holds the message. While the stream has no leader (a node died, an election
 * runs) JetStream answers nothing and NATS says "no responders": nobody received the message, so
 * it is sent again until the deadline. A timeout is not retried: the message may have been stored.
 *
 * Why not nats.js's `js.publish()`: it makes each publish a request with three Errors (their stack
 * traces captured: two for async traces, one to reject the finished request on clean-up) and a
 * timer of its own; at a few thousand durable publishes a second those Errors were a quarter of a
 * hub's busy time, and without them its CPU per publish halved (bench/cluster-durable.ts, profiled).
 * Here one subscription on a private inbox (under `_INBOX`, as nats.js's own requests) takes the
 * PubAcks of every publish, each matched by the last token of its reply subject, and one timer set
 * for the earliest deadline times out whatever waits past it.
 */
import {
  type ApiError,
  ErrorCode,
  NatsError,
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type PubAck,
  type Status,
  type Subscription,
} from 'nats';
import { whileLeaderless } from './jetstream-errors.js';

interface Waiting {
  subject: string;
  deadline: number;
  resolve(ack: PubAck): void;
  reject(err: unknown): void;
}

interface ApiAnswer {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  domain?: string;
  error?: ApiError;
}

const text = new TextDecoder();

export class JetStreamPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  /** `<inbox>.`: a PubAck comes to this followed by its publish's token. */
  readonly #inbox = `${createInbox()}.`;
  readonly #sub: Subscription;
  readonly #status: AsyncIterable<Status> & { stop?: () => void };
  readonly #waiting = new Map<string, Waiting>();
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = Number.POSITIVE_INFINITY;
  #closed = false;

  /** Over the caller's connection (never closed here); `timeoutMs`: how long a publish waits in all. */
  constructor(nc: NatsConnection, timeoutMs: number) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#sub = nc.subscribe(`${this.#inbox}*`, { callback: (err, m) => this.#answer(err, m) });
    // The connection closed (or the subscription ended): nothing that waits will be answered.
    void this.#sub.closed.then(() => this.#failAll(NatsError.errorForCode(ErrorCode.ConnectionClosed)));
    // NATS refusing a publish for permissions says so only on the connection: fail those at once.
    const status: AsyncIterable<Status> & { stop?: () => void } = nc.status();
    this.#status = status;
    void (async () => {
      for await (const s of status) {
        const ctx = s.permissionContext;
        if (s.type === 'error' && ctx?.operation === 'publish') this.#refused(ctx.subject);
      }
    })().catch(() => {});
  }

  /** One message, acknowledged by JetStream (retried while nobody answers, until the deadline). */
  async publish(subject: string, payload: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    const deadline = Date.now() + this.#timeoutMs;
    return whileLeaderless(
      () => this.#send(subject, payload, headers, deadline),
      deadline,
      () => this.#closed,
    );
  }

  /** Stops listening; whatever still waits fails (CONNECTION_CLOSED). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#status.stop?.();
    this.#sub.unsubscribe();
    this.#failAll(NatsError.errorForCode(ErrorCode.ConnectionClosed));
  }

  #send(subject: string, payload: Uint8Array, headers: MsgHdrs, deadline: number): Promise<PubAck> {
    if (this.#closed) return Promise.reject(NatsError.errorForCode(ErrorCode.ConnectionClosed));
    const token = (this.#next++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      this.#waiting.set(token, { subject, deadline, resolve, reject });
      try {
        this.#nc.publish(subject, payload, { reply: this.#inbox + token, headers });
      } catch (err) {
        this.#waiting.delete(token);
        reject(err);
        return;
      }
      if (deadline < this.#due) this.#arm(deadline);
    });
  }

  #answer(err: NatsError | null, m: Msg): void {
    if (err !== null) return this.#failAll(err); // e.g. the inbox may not be subscribed to
    const token = m.subject.slice(this.#inbox.length);
    const w = this.#waiting.get(token);
    if (w === undefined) return; // timed out already
    this.#waiting.delete(token);
    if (m.data.length === 0 && m.headers?.code === 503) return w.reject(NatsError.errorForCode(ErrorCode.NoResponders));
    let a: ApiAnswer;
    try {
      a = JSON.parse(text.decode(m.data)) as ApiAnswer;
    } catch (e) {
      return w.reject(NatsError.errorForCode(ErrorCode.JetStreamInvalidAck, e as Error));
    }
    if (a.error !== undefined) {
      // As nats.js reports it: the API error rides along (jetstream-errors.ts reads it).
      const e = new NatsError(a.error.description || ErrorCode.Unknown, String(a.error.code));
      e.api_error = a.error;
      return w.reject(e);
    }
    if (typeof a.stream !== 'string' || a.stream === '' || typeof a.seq !== 'number')
      return w.reject(NatsError.errorForCode(ErrorCode.JetStreamInvalidAck));
    const ack: PubAck = { stream: a.stream, seq: a.seq, duplicate: a.duplicate === true };
    if (a.domain !== undefined) ack.domain = a.domain;
    w.resolve(ack);
  }

  /** The timer fires at the earliest deadline: times out what is past it, then waits for the next. */
  #arm(due: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#due = due;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, due - Date.now()));
  }

  #expire(): void {
    this.#timer = undefined;
    this.#due = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [token, w] of this.#waiting) {
      if (w.deadline <= now) {
        this.#waiting.delete(token);
        w.reject(NatsError.errorForCode(ErrorCode.Timeout));
      } else if (w.deadline < next) next = w.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }

  #refused(subject: string): void {
    for (const [token, w] of this.#waiting) {
      if (w.subject !== subject) continue;
      this.#waiting.delete(token);
      w.reject(new NatsError(`Permissions Violation for Publish to "${subject}"`, ErrorCode.PermissionsViolation));
    }
  }

  #failAll(err: unknown): void {
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = Number.POSITIVE_INFINITY;
    for (const w of all) w.reject(err);
  }
}
