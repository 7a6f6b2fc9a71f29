/**
 * A Transport over two byte rings in a SharedArrayBuffer, between two threads of one process (or
 * a page and its workers where SharedArrayBuffer is available). `send` copies the caller's chunk
 * straight into the outgoing ring; what does not fit waits, uncopied, until the reader frees
 * room (`bufferedAmount` counts it, `drain` says when it is all in). The reader sleeps on the
 * ring's head with `Atomics.waitAsync` (or, where a runtime lacks it, on a wake-up message over
 * the setup port) and is woken only when it said it sleeps, so a busy writer pays one atomic
 * load per send for that.
 *
 * The ring is a byte stream (`framing: 'stream'`): the hub and the client reframe it.
 *
 * A peer that dies cannot say so: its thread is gone. The setup port's close event (Node's
 * MessagePort has one) and a beat word each side bumps say it instead; either way what the peer
 * wrote before it died is delivered first, then the transport closes with CB_ERR_CONNECTION_LOST.
 */
import { ConnectionError } from '../../core/errors/index.js';
import {
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  type Transport,
  type TransportCloseInfo,
  type TransportHandlers,
} from '../../core/transport/transport.js';
import { microtask } from '../../core/util/microtask.js';
import { createScheduler, type Scheduler } from '../../core/util/scheduler.js';
import { DEFAULT_SHM_BLOCKING_WAIT_MICROS, DEFAULT_SHM_DEAD_AFTER_MS, DEFAULT_SHM_LIVENESS_MS } from '../defaults.js';
import type { PortLike } from '../port/port-transport.js';
import { checkShmBuffer, readCloseNotice, writeCloseNotice } from './layout.js';
import { PeerWatch } from './peer-watch.js';
import { RingReader, RingWriter, WAITING_ON_PORT, WAITING_ON_WORD } from './ring.js';

/** A read loop yields to the event loop after this many chunks, so a writer faster than the reader cannot starve its thread. */
const READS_PER_TURN = 16;

type WaitAsync = (
  words: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

let scheduler: Scheduler | undefined;

export interface ShmTransportOptions {
  /** @default 'shm' */
  kind?: string;
  /** @default 'shm' */
  peer?: string;
  /**
   * The port the buffer came over: its close event says the peer is gone, and it carries
   * wake-ups where Atomics.waitAsync is missing. @default none (the beat word alone)
   */
  port?: PortLike;
  /** Close the port when the transport closes. @default true */
  closePort?: boolean;
  /** See DEFAULT_SHM_LIVENESS_MS. @default 1000 */
  livenessMs?: number;
  /** See DEFAULT_SHM_DEAD_AFTER_MS. @default 5000 */
  deadAfterMs?: number;
  /** See DEFAULT_SHM_BLOCKING_WAIT_MICROS. @default 0 */
  blockingWaitMicros?: number;
}

class ShmTransport implements Transport {
  readonly kind: string;
  readonly framing = 'stream' as const;
  readonly peer: string;
  readonly origin: string | undefined = undefined;
  readonly vouchedOrigin: string | undefined = undefined;
  readonly #words: Int32Array;
  readonly #side: 0 | 1;
  readonly #writer: RingWriter;
  readonly #reader: RingReader;
  readonly #closePort: boolean;
  #blockingWaitMs: number;
  readonly #waitHow: number;
  #handlers: TransportHandlers | undefined;
  #pendingClose: TransportCloseInfo | undefined;
  /** Chunks send() took that are not all in the ring yet; the first is in from #from. */
  #pending: Uint8Array[] = [];
  #from = 0;
  #buffered = 0;
  /** Reported closed (send throws); #writing stays true while a local close still flushes. */
  #closed = false;
  #writing = true;
  #readerAsleep = false;
  #writerAsleep = false;
  /** Why the peer is gone, when that was learnt before the handlers were set. */
  #goneBefore: string | undefined;
  readonly #watch: PeerWatch;

  constructor(sab: SharedArrayBuffer, side: 0 | 1, options: ShmTransportOptions) {
    const capacity = checkShmBuffer(sab);
    this.kind = options.kind ?? 'shm';
    this.peer = options.peer ?? 'shm';
    this.#side = side;
    this.#words = new Int32Array(sab);
    this.#writer = new RingWriter(sab, side, capacity);
    this.#reader = new RingReader(sab, side === 0 ? 1 : 0, capacity);
    this.#closePort = options.closePort !== false;
    this.#blockingWaitMs = (options.blockingWaitMicros ?? DEFAULT_SHM_BLOCKING_WAIT_MICROS) / 1000;
    this.#waitHow = waitAsync !== undefined ? WAITING_ON_WORD : WAITING_ON_PORT;
    this.#watch = new PeerWatch(
      this.#words,
      side,
      options.port,
      options.livenessMs ?? DEFAULT_SHM_LIVENESS_MS,
      options.deadAfterMs ?? DEFAULT_SHM_DEAD_AFTER_MS,
      { gone: (why) => this.#peerGone(why), wake: () => this.#onWake() },
    );
  }

  setHandlers(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    if (this.#pendingClose !== undefined) handlers.close(this.#pendingClose);
    else if (this.#goneBefore !== undefined) this.#peerGone(this.#goneBefore);
    else this.#pump();
  }

  send(chunk: Uint8Array): void {
    if (this.#closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', `${this.kind} transport is closed`);
    if (this.#pending.length > 0) {
      this.#pending.push(chunk);
      this.#buffered += chunk.length;
      return;
    }
    const n = this.#writer.write(chunk, 0);
    if (n > 0) this.#wakeReader();
    if (n === chunk.length) return;
    // The rest waits for room, uncopied: the caller gave us the chunk.
    this.#pending.push(chunk);
    this.#from = n;
    this.#buffered += chunk.length - n;
    this.#sleepUntilRoom();
  }

  bufferedAmount(): number {
    return this.#buffered;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.#closed) return;
    writeCloseNotice(this.#words, this.#side, code, reason);
    this.#report({ local: true, code, reason });
    // Pending bytes still go out; the ring is marked closed after them.
    if (this.#pending.length === 0) this.#endWriting();
  }

  // ---- reading

  /** Reads what has arrived and hands it up; sleeps when there is nothing. */
  readonly #pump = (): void => {
    this.#readerAsleep = false;
    const handlers = this.#handlers;
    if (this.#closed || handlers === undefined) return;
    for (let reads = 0; ; ) {
      const chunk = this.#reader.read();
      if (chunk === undefined) {
        if (this.#reader.writerClosed()) {
          // Bytes written before the close were published before it: a last look, then the close.
          if (this.#reader.available() > 0) continue;
          return this.#remoteClosed();
        }
        break;
      }
      this.#wakeWriterOfReader();
      handlers.message(chunk);
      if (this.#closed) return;
      if (++reads === READS_PER_TURN) {
        (scheduler ??= createScheduler())(this.#pump);
        return;
      }
    }
    if (this.#blockingWaitMs > 0) microtask(this.#waitBlocking);
    else this.#sleep();
  };

  /**
   * After the job's microtasks (a reply the handler sent is out by then): wait a little in
   * Atomics.wait, which gives the core up until the writer's notify, before going back to the
   * event loop to sleep there. (Spinning instead was measured slower on a busy machine: the
   * spinning threads lose their turn to the very thread they wait for.)
   */
  readonly #waitBlocking = (): void => {
    if (this.#closed) return;
    const head = this.#reader.prepareWait(WAITING_ON_WORD);
    if (head === undefined) return this.#pump();
    try {
      if (Atomics.wait(this.#reader.words, this.#reader.headWord, head, this.#blockingWaitMs) !== 'timed-out') return this.#pump();
    } catch {
      // A thread that may not block (a browser's main thread): never try again.
      this.#blockingWaitMs = 0;
    }
    this.#sleep();
  };

  #sleep(): void {
    if (this.#readerAsleep || this.#closed) return;
    const head = this.#reader.prepareWait(this.#waitHow);
    if (head === undefined) {
      microtask(this.#pump);
      return;
    }
    this.#readerAsleep = true;
    if (waitAsync === undefined) return; // the writer posts SHM_WAKE on the port
    const r = waitAsync(this.#reader.words, this.#reader.headWord, head);
    if (r.async) void r.value.then(this.#pump);
    else microtask(this.#pump);
  }

  /** After a read: a writer sleeping until there is room gets woken. */
  #wakeWriterOfReader(): void {
    const how = this.#reader.takeWriterWaiting();
    if (how === WAITING_ON_WORD) this.#reader.wakeWriter();
    else if (how === WAITING_ON_PORT) this.#watch.postWake();
  }

  #remoteClosed(): void {
    const { code, reason } = readCloseNotice(this.#words, this.#side === 0 ? 1 : 0);
    this.#dropPending();
    this.#report({ local: false, code: code || CLOSE_NORMAL, reason });
    this.#endWriting();
  }

  // ---- writing

  /** After a write: a reader sleeping until bytes arrive gets woken. */
  #wakeReader(): void {
    const how = this.#writer.takeReaderWaiting();
    if (how === WAITING_ON_WORD) this.#writer.wakeReader();
    else if (how === WAITING_ON_PORT) this.#watch.postWake();
  }

  #sleepUntilRoom(): void {
    if (this.#writerAsleep || !this.#writing) return;
    const tail = this.#writer.prepareWait(this.#waitHow);
    if (tail === undefined) {
      microtask(this.#onRoom);
      return;
    }
    this.#writerAsleep = true;
    if (waitAsync === undefined) return;
    const r = waitAsync(this.#writer.words, this.#writer.tailWord, tail);
    if (r.async) void r.value.then(this.#onRoom);
    else microtask(this.#onRoom);
  }

  readonly #onRoom = (): void => {
    this.#writerAsleep = false;
    if (!this.#writing) return;
    while (this.#pending.length > 0) {
      const chunk = this.#pending[0] as Uint8Array;
      const n = this.#writer.write(chunk, this.#from);
      if (n > 0) this.#wakeReader();
      this.#from += n;
      this.#buffered -= n;
      if (this.#from < chunk.length) return this.#sleepUntilRoom();
      this.#pending.shift();
      this.#from = 0;
    }
    if (this.#closed) this.#endWriting();
    else this.#handlers?.drain?.();
  };

  #dropPending(): void {
    this.#pending = [];
    this.#from = 0;
    this.#buffered = 0;
  }

  /** The outgoing ring carries nothing more: mark it, wake the reader, let go of everything. */
  #endWriting(): void {
    if (!this.#writing) return;
    this.#writing = false;
    this.#writer.markClosed();
    this.#wakeReader();
    // A write sleeping until there is room is woken to see that there is nothing more to write.
    if (this.#writerAsleep) Atomics.notify(this.#writer.words, this.#writer.tailWord);
    this.#watch.stop(this.#closePort);
  }

  // ---- the peer

  /** The peer posted a wake-up (it sleeps on the port, not on a word). */
  #onWake(): void {
    if (this.#readerAsleep) this.#pump();
    if (this.#writerAsleep) this.#onRoom();
  }

  /** The peer thread is gone: deliver what it wrote, then close (normally, if it had closed first). */
  #peerGone(why: string): void {
    if (this.#closed) {
      // Closed here and still flushing: nobody will read the rest.
      this.#dropPending();
      this.#endWriting();
      return;
    }
    if (this.#handlers === undefined) {
      this.#goneBefore = why;
      return;
    }
    for (;;) {
      const chunk = this.#reader.read();
      if (chunk === undefined) break;
      this.#handlers.message(chunk);
      if (this.#closed) return;
    }
    if (this.#reader.writerClosed()) return this.#remoteClosed();
    this.#dropPending();
    this.#report(lost(why));
    this.#endWriting();
  }

  /** Reports the close once; stops reading (a sleeping read is woken to see it). */
  #report(info: TransportCloseInfo): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#readerAsleep) Atomics.notify(this.#reader.words, this.#reader.headWord);
    if (this.#handlers !== undefined) this.#handlers.close(info);
    else this.#pendingClose = info;
  }
}

function lost(why: string): TransportCloseInfo {
  const reason = `the peer thread is gone (${why})`;
  return { local: false, code: CLOSE_GOING_AWAY, reason, error: new ConnectionError('CB_ERR_CONNECTION_LOST', reason) };
}

/**
 * A Transport over `sab` (from createShmBuffer), as `side` 0 (the end that created the buffer and
 * connects) or 1 (the end that accepted it).
 */
export function createShmTransport(sab: SharedArrayBuffer, side: 0 | 1, options: ShmTransportOptions = {}): Transport {
  return new ShmTransport(sab, side, options);
}
