/**
 * What a Bus has going on with its hub, across connections: its subscriptions (by sid), the
 * operations waiting for the hub's answer (by id), the dispatch of the hub's frames to them, and
 * the errors nobody waits for (the bus's `error` event). It is also what the Bus's parts and the
 * streams plugin call on the bus: the Connection's owner, request/reply's host, the StreamsHost,
 * each Subscription's owner.
 */
import { CrossbusError, RequestError, createError } from '../core/errors/index.js';
import { encodeInto, readFrames } from '../core/protocol/codec.js';
import { KIND_NAMES, Kind, envelope, type Envelope } from '../core/protocol/envelope.js';
import type { FrameWriter } from '../core/protocol/frame-writer.js';
import { HEADER_GRANTS } from '../core/security/handshake-messages.js';
import type { Transport } from '../core/transport/transport.js';
import type { TypedEmitter } from '../core/util/emitter.js';
import type { Logger } from '../core/util/logger.js';
import type { BusStreams, StreamsHost } from './bus-streams.js';
import type { Connection, ConnectionOwner } from './connection.js';
import type { BusEvents } from './events.js';
import type { ResolvedConnectOptions } from './options.js';
import { errorFromPayload } from './payload.js';
import { PendingTable } from './pending.js';
import type { RequestReply, RequestReplyHost } from './request-reply.js';
import type { Subscription } from './subscription.js';

function u32Next(n: number): number {
  return n >= 0xffff_fffe ? 1 : n + 1;
}

export class Session implements StreamsHost, RequestReplyHost, ConnectionOwner {
  readonly requestTimeoutMs: number;
  readonly #events: TypedEmitter<BusEvents>;
  readonly #logger: Logger;
  readonly #subs = new Map<number, Subscription<unknown>>();
  /** SUBSCRIBEs whose answer is later than requestTimeoutMs (held for consent), by op id. */
  readonly #lateSubscribes = new Map<number, Subscription<unknown>>();
  /** Operations the hub answers with OK/PONG/ERROR, by id. */
  readonly #ops = new PendingTable<Envelope>();
  #nextSid = 0;
  #nextId = 0;
  #conn!: Connection;
  #rr!: RequestReply;
  #streams: BusStreams | undefined;

  constructor(events: TypedEmitter<BusEvents>, opts: ResolvedConnectOptions) {
    this.#events = events;
    this.requestTimeoutMs = opts.requestTimeoutMs;
    this.#logger = opts.logger;
  }

  /** The parts made with this session as their owner or host: it needs them, and they need it first. */
  attach(conn: Connection, rr: RequestReply, streams: BusStreams | undefined): void {
    this.#conn = conn;
    this.#rr = rr;
    this.#streams = streams;
  }

  // ------------------------------------------------------------------ operations

  /** A new operation id: the hub's answer (OK, PONG, ERROR, a reply) carries it. */
  opId(): number {
    this.#nextId = u32Next(this.#nextId);
    return this.#nextId;
  }

  /** Waits for the hub's OK (or PONG, or ERROR) to operation `id`. */
  trackOp(id: number, timeoutMs: number): Promise<Envelope> {
    return this.#ops.add(
      id,
      timeoutMs,
      () => new RequestError('CB_ERR_TIMEOUT', `the hub did not answer within ${timeoutMs} ms`, { details: { timeoutMs } }),
    );
  }

  /** Sends `env` as an operation (under a new id) and waits for the hub's OK, PONG or ERROR to it. */
  ask(env: Envelope, timeoutMs: number): Promise<Envelope> {
    const id = this.opId();
    env.id = id;
    // Written first: a frame that cannot be written throws here and leaves no answer waiting (the
    // answer cannot come before this job ends, since writes only reach the transport).
    this.write(env);
    return this.trackOp(id, timeoutMs);
  }

  /** Appends a frame to the outbox (throws a typed error when it cannot). */
  write(env: Envelope): void {
    this.#conn.outbox.write(env);
  }

  checkOpen(): void {
    this.#conn.checkOpen();
  }

  /** Whether settlements and UNSUBSCRIBEs go out now: connected, or draining. */
  canSettle(): boolean {
    const state = this.#conn.state;
    return state === 'connected' || state === 'draining';
  }

  /** An error with no caller to reject: logged, and the bus's `error` event. */
  reportError(error: CrossbusError, context: Record<string, unknown>): void {
    this.#logger.warn({ code: error.code, ...context }, error.message);
    this.#events.emit('error', { error });
  }

  // ------------------------------------------------------------------ subscriptions

  /** A new subscription's sid (`start` registers it). */
  newSid(): number {
    this.#nextSid = u32Next(this.#nextSid);
    return this.#nextSid;
  }

  /** Registers a subscription and subscribes it: now when connected, else with the others once connected. */
  start(sub: Subscription<unknown>): void {
    this.#subs.set(sub.sid, sub);
    if (this.#conn.state !== 'connected') return;
    const outbox = this.#conn.outbox;
    this.#writeSubscribe(sub, outbox.batch);
    outbox.requestFlush();
  }

  /** Writes `sub`'s SUBSCRIBE into `w` and waits for its answer. */
  #writeSubscribe(sub: Subscription<unknown>, w: FrameWriter): void {
    const id = this.opId();
    const frame = sub.subscribeFrame(id);
    // Only a SUBSCRIBE may be held for a person's consent (a stream consumer attaches with a STREAM
    // operation, answered at once): its answer may then come after the operation timeout.
    const mayAwaitConsent = frame.kind === Kind.SUBSCRIBE;
    this.trackOp(id, this.requestTimeoutMs).then(
      () => sub.confirm(),
      (error: CrossbusError) => {
        // Lost: it is sent again after the reconnect.
        if (error.code === 'CB_ERR_CONNECTION_LOST') return;
        // Unanswered so far (the hub may hold it for a person's consent): settle it when the answer comes.
        if (error.code === 'CB_ERR_TIMEOUT' && mayAwaitConsent) {
          this.#lateSubscribes.set(id, sub);
          return;
        }
        this.#refused(sub, error);
      },
    );
    encodeInto(w, frame, this.#conn.limits);
  }

  /** Forgets subscription `sid` and tells the hub, when connected. */
  unsubscribeSid(sid: number): void {
    if (!this.#subs.delete(sid)) return;
    if (this.canSettle()) {
      try {
        this.write(envelope(Kind.UNSUBSCRIBE, { sid }));
      } catch {
        /* closed */
      }
    }
  }

  /** Unsubscribes everything but the reply inbox (drain). */
  unsubscribeAll(): void {
    for (const sid of [...this.#subs.keys()]) {
      if (sid !== this.#rr.inboxSid) this.#subs.get(sid)?.unsubscribe();
    }
  }

  // ------------------------------------------------------------------ connection events (see ConnectionOwner)

  useInbox(prefix: string): void {
    // Dropped without an UNSUBSCRIBE: the hub no longer knows the old inbox subscription.
    this.#subs.delete(this.#rr.useInbox(prefix));
  }

  resubscribe(w: FrameWriter): void {
    for (const sub of this.#subs.values()) this.#writeSubscribe(sub, w);
  }

  reconnected(): void {
    this.#streams?.reconnected();
  }

  lost(error: CrossbusError): void {
    this.#ops.rejectAll(error);
    this.#streams?.connectionLost(error);
    // Those are sent again with the other subscriptions after the reconnect.
    this.#lateSubscribes.clear();
  }

  /** The bus closed: everything waiting fails with `error`, every subscription ends. */
  closed(error: CrossbusError): void {
    this.#rr.closed(error);
    this.#ops.rejectAll(error);
    this.#streams?.closed(error);
    for (const sub of this.#subs.values()) sub.end();
    this.#subs.clear();
  }

  // ------------------------------------------------------------------ inbound

  /** A chunk from the current transport: its frames, each to the part it concerns. */
  received(transport: Transport, chunk: Uint8Array): void {
    this.#conn.outbox.endBurst();
    try {
      readFrames(chunk, this.#conn.limits, this.#onFrame);
    } catch (err) {
      const error = err instanceof CrossbusError ? err : createError('CB_ERR_INTERNAL', 'client failed on a frame', { cause: err });
      this.reportError(error, {});
      transport.close(4002, error.code);
    }
  }

  /** One frame from the hub, to the part it concerns (a field: readFrames gets it without a closure per chunk). */
  readonly #onFrame = (env: Envelope): void => {
    switch (env.kind) {
      case Kind.MESSAGE: {
        const rr = this.#rr;
        if (env.sid === rr.inboxSid && rr.inboxSid !== 0) return rr.onReply(env);
        const sub = this.#subs.get(env.sid);
        if (sub !== undefined) sub.push(sub.messageFor(env, rr.responder));
        return;
      }
      case Kind.ACK:
        this.#streams?.onAck(env);
        return;
      case Kind.OK:
        if (this.#conn.answered(env)) return;
        if (env.id === 0 && env.headers?.[HEADER_GRANTS] !== undefined) return this.#conn.updateGrants(env);
        if (!this.#ops.resolve(env.id, env) && this.#streams?.onOk(env) !== true) this.#settleLateSubscribe(env.id, undefined);
        return;
      case Kind.ERROR: {
        const error = errorFromPayload(env.payload);
        if (
          env.id !== 0 &&
          (this.#ops.reject(env.id, error) ||
            this.#rr.reject(env.id, error) ||
            this.#settleLateSubscribe(env.id, error) ||
            this.#streams?.onError(env.id, error) === true)
        )
          return;
        if (env.id === 0 && typeof error.details?.sid === 'number') {
          // The hub ended a subscription (a config reload or a revoked consent took the grant away).
          const sub = this.#subs.get(error.details.sid);
          if (sub !== undefined && sub.sid !== this.#rr.inboxSid) {
            this.#refused(sub, error);
            return;
          }
        }
        // Refused during the handshake (connection limit, version, ...): that is why connect fails.
        if (this.#conn.refused(error)) return;
        this.reportError(error, {});
        return;
      }
      case Kind.WELCOME:
        this.#conn.answered(env);
        return;
      case Kind.PING:
        this.#conn.outbox.sendControl(envelope(Kind.PONG, { id: env.id }));
        return;
      case Kind.PONG:
        if (env.id !== 0) this.#ops.resolve(env.id, env);
        return;
      case Kind.GOODBYE:
        // The hub closes next, and the connection's close handler reconnects. Only the reason's
        // code is logged: no error reaches anyone.
        this.#logger.info(
          {
            code: env.payload.length > 0 ? errorFromPayload(env.payload).code : 'CB_ERR_HUB_SHUTTING_DOWN',
          },
          'hub said goodbye',
        );
        return;
      default:
        this.reportError(createError('CB_ERR_PROTOCOL', `unexpected ${KIND_NAMES[env.kind] ?? env.kind} frame from the hub`), {});
    }
  };

  /** Answers a SUBSCRIBE that outlived its op timeout. Returns false when `id` is not one. */
  #settleLateSubscribe(id: number, error: CrossbusError | undefined): boolean {
    const sub = this.#lateSubscribes.get(id);
    if (sub === undefined) return false;
    this.#lateSubscribes.delete(id);
    if (error === undefined) sub.confirm();
    else this.#refused(sub, error);
    return true;
  }

  /** The hub refused `sub` or ended it (or its answer timed out): it ends with `error`. */
  #refused(sub: Subscription<unknown>, error: CrossbusError): void {
    if (this.#subs.get(sub.sid) === sub) this.#subs.delete(sub.sid);
    sub.fail(error);
  }
}
