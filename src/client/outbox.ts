/**
 * What a Bus sends, batched and bounded. Frames are encoded straight into one FrameWriter batch,
 * which leaves in as few transport writes as latency allows (see Outbox.#inBurst). Publishers
 * wait while more than `maxPendingBytes` are unsent (backpressure); while disconnected, the
 * batch holds at most `reconnectBufferBytes` and publishes beyond are refused.
 */
import { ConnectionError } from '../core/errors/index.js';
import type { FrameLimits } from '../core/limits.js';
import { encodeInto } from '../core/protocol/codec.js';
import type { Envelope } from '../core/protocol/envelope.js';
import { FrameWriter } from '../core/protocol/frame-writer.js';
import type { WelcomePayload } from '../core/protocol/handshake.js';
import { RECORD_HEADROOM } from '../core/protocol/layout.js';
import type { Transport } from '../core/transport/transport.js';
import { RESOLVED, microtask } from '../core/util/microtask.js';
import { createScheduler } from '../core/util/scheduler.js';
import type { BusState } from './events.js';
import type { ResolvedConnectOptions } from './options.js';

/** A pause this long between batches ends a burst (see Outbox.#inBurst). */
const BURST_GAP_MS = 4;

/** What the outbox needs to know of the connection it writes to. */
export interface OutboxLink {
  readonly state: BusState;
  readonly limits: FrameLimits;
  readonly transport: Transport | undefined;
  /** The hub's WELCOME: nothing leaves before the first one. */
  readonly info: WelcomePayload | undefined;
}

export class Outbox {
  /** The frames not yet handed to the transport. Subscriptions are encoded into it directly (see Bus). */
  readonly batch = new FrameWriter(16 * 1024, RECORD_HEADROOM);
  readonly #link: OutboxLink;
  readonly #opts: ResolvedConnectOptions;
  #flushScheduled = false;
  /**
   * The bus is sending a burst. The first write after idle goes out at the end of the current
   * job, for latency; later writes of the burst wait for the scheduler, so loops batch. Inbound
   * data ends a burst (a round trip's next request must not wait), and so does a pause of
   * BURST_GAP_MS since the last batch left: a publisher that yields between bursts (every 100
   * messages, say) keeps batching instead of sending each burst's first message alone.
   */
  #inBurst = false;
  /** When the last batch left (Date.now(): a clock step only ends or extends one burst, and performance.now() costs five times as much in Chromium). */
  #lastFlushAt = 0;
  readonly #schedule = createScheduler();
  readonly #drainWaiters: Array<() => void> = [];

  constructor(link: OutboxLink, opts: ResolvedConnectOptions) {
    this.#link = link;
    this.#opts = opts;
  }

  /** Bytes accepted and not yet written out: in the batch, and held by the transport. */
  get pendingBytes(): number {
    return this.batch.length + (this.#link.transport?.bufferedAmount() ?? 0);
  }

  /** Appends a frame to the batch. Throws a typed error (and writes nothing) on a bad frame. */
  write(env: Envelope): void {
    if (this.#link.state === 'closed') throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus is closed');
    encodeInto(this.batch, env, this.#link.limits);
    if (this.batch.length >= this.#opts.batchBytes) this.flush();
    else this.requestFlush();
  }

  /** Control frames (PONG, PING) bypass the batch order only in that they never wait. */
  sendControl(env: Envelope): void {
    try {
      this.write(env);
    } catch {
      /* closed */
    }
  }

  /** Writes are sent in batches: one transport write per job for a burst's first write, per turn of the event loop for the rest (see #inBurst). */
  requestFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    if (this.#inBurst && Date.now() - this.#lastFlushAt < BURST_GAP_MS) this.#schedule(this.#flushTask);
    else {
      this.#inBurst = true;
      microtask(this.#flushTask);
    }
  }

  /** Sends the batch, on a microtask (the first write of a burst) or from the scheduler (the rest). */
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };

  /** Hands the batch to the transport, once the hub has welcomed this connection. */
  flush(): void {
    const link = this.#link;
    const t = link.transport;
    if (t === undefined || link.state === 'connecting' || link.state === 'reconnecting' || this.batch.length === 0) return;
    if (link.info === undefined) return;
    this.#lastFlushAt = Date.now();
    try {
      t.send(this.batch.take(), this.batch.headroom);
    } catch (err) {
      this.#opts.logger.debug({ error: String(err) }, 'send failed');
    }
    if (t.bufferedAmount() < this.#opts.maxPendingBytes) this.releaseWaiters();
  }

  /** Data came from the hub: the burst is over (see #inBurst). */
  endBurst(): void {
    this.#inBurst = false;
  }

  /** The transport wrote out what it held. */
  onDrain(): void {
    // A write scheduled its own flush; sending now would split the batch being built.
    if (!this.#flushScheduled) this.flush();
    if (this.pendingBytes < this.#opts.maxPendingBytes) this.releaseWaiters();
  }

  /** Lets every waiting publisher go (the backlog drained, or the connection is gone). */
  releaseWaiters(): void {
    const waiters = this.#drainWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Throws CB_ERR_BACKPRESSURE while disconnected with `reconnectBufferBytes` already waiting. */
  checkRoom(): void {
    const waiting = this.batch.length;
    if (this.#link.state !== 'connected' && waiting >= this.#opts.reconnectBufferBytes) {
      // Refused, not queued: a rejected publish is never sent later.
      throw new ConnectionError('CB_ERR_BACKPRESSURE', `${waiting} bytes already wait for the connection to come back`, {
        details: { pendingBytes: waiting, limit: this.#opts.reconnectBufferBytes },
      });
    }
  }

  /** Resolves once unsent bytes are below the high-water mark (or the bus closes). */
  backpressure(): Promise<void> {
    if (this.pendingBytes < this.#opts.maxPendingBytes) return RESOLVED;
    // While disconnected the bound is reconnectBufferBytes, checked before writing (checkRoom).
    if (this.#link.state !== 'connected') return RESOLVED;
    return new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }
}
