import { createError, type CrossbusError, type ErrorCode } from '../errors/index.js';
import { encodeInto } from '../protocol/codec.js';
import { Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import { OFF_KIND, OFF_SID, RECORD_HEADROOM } from '../protocol/layout.js';
import type { BrokerStreams } from '../streams/broker-streams.js';
import { CLOSE_SLOW_CONSUMER } from '../transport/transport.js';
import type { TypedEmitter } from '../util/emitter.js';
import { encodeJson } from '../util/json.js';
import { microtask } from '../util/microtask.js';
import type { HubCounters } from './counters.js';
import type { BrokerEvents } from './events.js';
import type { ResolvedBrokerOptions } from './options.js';
import type { SessionTable } from './session-table.js';
import type { Session } from './session.js';

/** A session's outbound queue (`session.queue`): written by OutboundQueues only, read-only elsewhere. */
export interface SessionQueue {
  /** Frames not yet handed to the transport. */
  readonly out: FrameWriter;
  /** Frames in `out`. */
  readonly queuedMessages: number;
  /** True while the queue is over its bound and messages are being dropped ('drop' policy). */
  readonly overflowing: boolean;
  /** Messages dropped in the current 'drop' episode, reported when the queue drains. */
  readonly dropped: number;
  /** True while the session waits to be flushed at the end of the microtask. */
  readonly flushScheduled: boolean;
  /** The id of the last ACK frame processed and not yet confirmed (0: none). */
  readonly ackConfirm: number;
  /** When the hub read the oldest routed message in `out` (HubCounters.receivedAt); 0: none timed. */
  readonly oldestAt: number;
}

/** The writable queue: only this module names this type. */
class QueueState implements SessionQueue {
  readonly out = new FrameWriter(4096, RECORD_HEADROOM);
  queuedMessages = 0;
  overflowing = false;
  dropped = 0;
  flushScheduled = false;
  ackConfirm = 0;
  oldestAt = 0;
}

export function newSessionQueue(): SessionQueue {
  return new QueueState();
}

type OverflowReason = 'queue' | 'hub-memory';

/**
 * Every session's bounded outbound queue and the slow-consumer policy. Routed frames are copied
 * into the recipient's queue (kind and sid patched); at the end of the microtask each touched
 * session hands its queue to its transport in one send, unless the transport already holds
 * `transportHighWaterBytes` (then it waits for the transport's drain). A queue over its bound,
 * or the hub over `maxTotalQueuedBytes`, triggers the policy: 'disconnect' closes the slow
 * consumer, 'drop' discards what does not fit and reports the loss.
 */
export class OutboundQueues {
  readonly #options: ResolvedBrokerOptions;
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #totals: HubCounters;
  readonly #streams: BrokerStreams<Session> | undefined;
  #sessions!: SessionTable;
  /** Sessions with frames to flush at the end of the microtask. */
  readonly #dirty: Session[] = [];
  #flushQueued = false;
  /** Bytes queued across all sessions (bounded by maxTotalQueuedBytes). */
  #queuedTotal = 0;

  constructor(
    options: ResolvedBrokerOptions,
    events: TypedEmitter<BrokerEvents>,
    totals: HubCounters,
    streams: BrokerStreams<Session> | undefined,
  ) {
    this.#options = options;
    this.#events = events;
    this.#totals = totals;
    this.#streams = streams;
  }

  /**
   * The session table: the hub-wide bound looks through it for the largest backlog, and the
   * 'disconnect' policy closes through it. Set once by the Broker, as the table is built on
   * these queues.
   */
  attach(sessions: SessionTable): void {
    this.#sessions = sessions;
  }

  /** Bytes queued for all sessions right now. */
  get queuedBytes(): number {
    return this.#queuedTotal;
  }

  /** Copies a routed frame into a session's queue. Returns false when the session did not take it. */
  deliver(s: Session, buf: Uint8Array, start: number, end: number, sid: number): boolean {
    if (s.state !== 'open') return false;
    const len = end - start;
    const o = this.#options;
    if (this.#queuedTotal + len > o.maxTotalQueuedBytes) {
      // The hub as a whole is at its memory bound: the biggest backlog pays, not this recipient.
      this.#shedLargest();
      if (s.state !== 'open') return false;
      if (this.#queuedTotal + len > o.maxTotalQueuedBytes) {
        this.#overflow(s, 'hub-memory');
        return false;
      }
    }
    const q = s.queue as QueueState;
    const w = q.out;
    if (q.queuedMessages >= o.maxQueuedMessages || w.length + len > o.maxQueuedBytes) {
      this.#overflow(s, 'queue');
      return false;
    }
    w.ensure(len);
    const at = w.length;
    w.bytes.set(buf.subarray(start, end), at);
    w.bytes[at + OFF_KIND] = Kind.MESSAGE;
    w.view.setUint32(at + OFF_SID, sid);
    w.length = at + len;
    this.#queuedTotal += len;
    q.queuedMessages++;
    if (q.oldestAt === 0) q.oldestAt = this.#totals.receivedAt;
    s.counters.messagesOut++;
    this.#totals.messagesOut++;
    this.#schedule(s, q);
    return true;
  }

  /** Queues a frame the hub itself sends (OK, ERROR, PONG, WELCOME...): outside the bounds. */
  enqueueControl(s: Session, env: Envelope): void {
    if (s.state === 'closed') return;
    const q = s.queue as QueueState;
    const before = q.out.length;
    encodeInto(q.out, env, this.#options.limits);
    this.#queuedTotal += q.out.length - before;
    q.queuedMessages++;
    this.#schedule(s, q);
  }

  /** A frame from durable streams (a delivery, or an answer); deliveries count as messages out. */
  enqueueStreamFrame(s: Session, env: Envelope): void {
    if (env.kind === Kind.MESSAGE) {
      s.counters.messagesOut++;
      this.#totals.messagesOut++;
    }
    this.enqueueControl(s, env);
  }

  /** Queues an ERROR frame (id 0: not an answer to a frame of the peer's); counted in `errors`. */
  sendError(s: Session, id: number, error: CrossbusError): void {
    this.#totals.countError(error.code);
    this.enqueueControl(s, envelope(Kind.ERROR, { id, payloadType: PayloadType.JSON, payload: encodeJson(error.toJSON()) }));
  }

  /**
   * Answers frame `id` with an error. This does not count toward abuse control: refusals of the
   * peer's input go through InboundDispatch.replyError or the access gate, which also do that.
   */
  replyError(s: Session, id: number, code: ErrorCode, message: string, details?: Record<string, unknown>): void {
    this.sendError(s, id, createError(code, message, details ? { details } : {}));
  }

  /** Counts an ACK frame as processed: the next batch to the session carries one cumulative confirmation. */
  confirmAck(s: Session, id: number): void {
    const q = s.queue as QueueState;
    q.ackConfirm = id;
    this.#schedule(s, q);
  }

  /** False when the session's queue and transport hold enough that stream deliveries should wait for a drain. */
  canSend(s: Session): boolean {
    return s.state === 'open' && s.queue.out.length + s.transport.bufferedAmount() < this.#options.transportHighWaterBytes;
  }

  /** Takes a session's queued bytes (to send or to discard), keeping the hub-wide total exact. */
  takeOut(s: Session): Uint8Array {
    (s.queue as QueueState).oldestAt = 0;
    const bytes = s.queue.out.take();
    this.#queuedTotal -= bytes.length;
    return bytes;
  }

  /** Hands what is queued (errors, goodbye) to the transport straight away, ignoring its high-water mark: the session is closing. */
  flushBeforeClose(s: Session): void {
    const q = s.queue;
    if (q.out.length === 0) return;
    try {
      s.transport.send(this.takeOut(s), q.out.headroom);
    } catch {
      /* already closed */
    }
  }

  /** Forgets a closed session's unsent frames. */
  discard(s: Session): void {
    this.takeOut(s);
  }

  /** Flushes the session at the end of the microtask. */
  markDirty(s: Session): void {
    this.#schedule(s, s.queue as QueueState);
  }

  #schedule(s: Session, q: QueueState): void {
    if (q.flushScheduled) return;
    q.flushScheduled = true;
    this.#dirty.push(s);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      microtask(this.#flushDirty);
    }
  }

  readonly #flushDirty = (): void => {
    this.#flushQueued = false;
    const list = this.#dirty.splice(0);
    for (const s of list) {
      (s.queue as QueueState).flushScheduled = false;
      this.pump(s);
    }
  };

  /** Hands queued frames to the transport while it has room. */
  pump(s: Session): void {
    if (s.state === 'closed') return;
    const q = s.queue as QueueState;
    const o = this.#options;
    if (q.ackConfirm !== 0) {
      // One cumulative confirmation per batch: every ACK up to this id is settled (or was answered by an ERROR).
      const before = q.out.length;
      encodeInto(q.out, envelope(Kind.ACK, { id: q.ackConfirm }), o.limits);
      this.#queuedTotal += q.out.length - before;
      q.ackConfirm = 0;
    }
    if (q.out.length === 0) {
      this.#streams?.drained(s);
      return;
    }
    if (s.transport.bufferedAmount() >= o.transportHighWaterBytes) return; // wait for drain
    const n = q.out.length;
    const oldestAt = q.oldestAt;
    try {
      s.transport.send(this.takeOut(s), q.out.headroom);
    } catch (err) {
      o.logger.debug({ connectionId: s.connectionId, error: String(err) }, 'send failed');
      return;
    }
    s.counters.bytesOut += n;
    this.#totals.bytesOut += n;
    this.#totals.batchBytes.observe(n);
    if (oldestAt !== 0) this.#totals.deliveryLatencySeconds.observe((performance.now() - oldestAt) / 1000);
    q.queuedMessages = 0;
    this.#streams?.drained(s);
    if (q.overflowing) {
      q.overflowing = false;
      const dropped = q.dropped;
      q.dropped = 0;
      this.replyError(s, 0, 'CB_ERR_SLOW_CONSUMER', `queue drained; ${dropped} messages were dropped`, { dropped, policy: 'drop' });
    }
  }

  // ------------------------------------------------------------------ slow consumers

  /** Throws away a session's unsent queue; returns how many frames it held. */
  #discardQueue(s: Session): number {
    const q = s.queue as QueueState;
    const n = q.queuedMessages;
    this.takeOut(s);
    q.queuedMessages = 0;
    return n;
  }

  /**
   * At the hub-wide bound, the session with the largest backlog is handled as a slow consumer:
   * 'disconnect' closes it; 'drop' discards its backlog (counted and reported to it).
   */
  #shedLargest(): void {
    let victim: Session | undefined;
    for (const x of this.#sessions.values()) {
      if (x.state === 'open' && (victim === undefined || x.queue.out.length > victim.queue.out.length)) victim = x;
    }
    if (victim === undefined || victim.queue.out.length === 0) return;
    if (this.#options.slowConsumerPolicy === 'disconnect') {
      this.#overflow(victim, 'hub-memory');
      return;
    }
    const n = this.#discardQueue(victim);
    (victim.queue as QueueState).dropped += n;
    this.#totals.dropped += n;
    this.#startDropping(victim, 'hub-memory');
  }

  #overflowDetails(s: Session, reason: OverflowReason) {
    const o = this.#options;
    return {
      policy: o.slowConsumerPolicy,
      reason,
      maxQueuedBytes: o.maxQueuedBytes,
      maxQueuedMessages: o.maxQueuedMessages,
      maxTotalQueuedBytes: o.maxTotalQueuedBytes,
      queuedBytes: s.queue.out.length,
      queuedMessages: s.queue.queuedMessages,
    };
  }

  #overflow(s: Session, reason: OverflowReason): void {
    const details = this.#overflowDetails(s, reason);
    this.#totals.dropped++;
    if (this.#options.slowConsumerPolicy === 'drop') {
      (s.queue as QueueState).dropped++;
      this.#startDropping(s, reason);
      return;
    }
    this.#totals.slowConsumers++;
    this.#events.emit('slow-consumer', { connectionId: s.connectionId, name: s.name, ...details });
    // Disconnect: throw away what it has not read, tell it why, and close.
    this.#discardQueue(s);
    this.replyError(s, 0, 'CB_ERR_SLOW_CONSUMER', 'outbound queue overflowed: disconnecting', details);
    this.#sessions.close(s, CLOSE_SLOW_CONSUMER, 'CB_ERR_SLOW_CONSUMER');
  }

  /** 'drop' policy: the first loss of an episode is reported at once; the total when it drains. */
  #startDropping(s: Session, reason: OverflowReason): void {
    const q = s.queue as QueueState;
    if (q.overflowing) return;
    q.overflowing = true;
    const details = this.#overflowDetails(s, reason);
    this.#totals.slowConsumers++;
    this.#events.emit('slow-consumer', { connectionId: s.connectionId, name: s.name, ...details });
    // The notice goes past the bound on purpose: it is small and the peer must learn of the loss.
    this.replyError(
      s,
      0,
      'CB_ERR_SLOW_CONSUMER',
      reason === 'queue'
        ? 'outbound queue is full: messages are being dropped'
        : 'the hub is at its memory bound: messages queued for you were dropped',
      details,
    );
  }
}
