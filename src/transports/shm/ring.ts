/**
 * One single-producer single-consumer byte ring in a SharedArrayBuffer: the writer copies a
 * caller's bytes straight in and publishes them by storing the head; the reader copies out
 * what is there and frees it by storing the tail. Head and tail are byte counters that wrap
 * at 2^32 (the capacity is a power of two below that, so `head - tail` is always what is
 * unread). Only Atomics and typed arrays: it runs in any thread of any runtime.
 *
 * The ring carries a byte stream, not messages: crossbus frames carry their own length prefix,
 * so a second header per message in the ring would only repeat it, and one read hands up
 * every frame that has arrived in one chunk (`reframe()` cuts them apart without a copy).
 */
import { R_CLOSED, R_HEAD, R_READER_WAITING, R_TAIL, R_WRITER_WAITING, ringDataOffset, ringWord } from './layout.js';

/** Wait states of the R_READER_WAITING word. */
export const AWAKE = 0;
export const WAITING_ON_WORD = 1;
export const WAITING_ON_PORT = 2;

export class RingWriter {
  readonly #words: Int32Array;
  readonly #data: Uint8Array;
  readonly #mask: number;
  readonly #capacity: number;
  readonly #head: number;
  readonly #tail: number;
  readonly #readerWaiting: number;
  readonly #writerWaiting: number;
  /** Our own copy of the head: only we write it. */
  #pos = 0;

  constructor(sab: SharedArrayBuffer, ring: 0 | 1, capacity: number) {
    this.#words = new Int32Array(sab);
    this.#data = new Uint8Array(sab, ringDataOffset(ring, capacity), capacity);
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#head = ringWord(ring, R_HEAD);
    this.#tail = ringWord(ring, R_TAIL);
    this.#readerWaiting = ringWord(ring, R_READER_WAITING);
    this.#writerWaiting = ringWord(ring, R_WRITER_WAITING);
    this.#pos = Atomics.load(this.#words, this.#head);
  }

  /** Bytes the ring can take now. */
  free(): number {
    return this.#capacity - ((this.#pos - Atomics.load(this.#words, this.#tail)) | 0);
  }

  /**
   * Copies as much of `chunk` from `from` as fits and publishes it; returns how many bytes.
   * The reader sees none of them before all of them are in.
   */
  write(chunk: Uint8Array, from: number): number {
    const n = Math.min(this.free(), chunk.length - from);
    if (n <= 0) return 0;
    const at = this.#pos & this.#mask;
    const first = this.#capacity - at;
    if (n <= first) this.#data.set(from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n), at);
    else {
      this.#data.set(chunk.subarray(from, from + first), at);
      this.#data.set(chunk.subarray(from + first, from + n), 0);
    }
    this.#pos = (this.#pos + n) | 0;
    Atomics.store(this.#words, this.#head, this.#pos);
    return n;
  }

  /**
   * Takes the reader's wait state (and clears it): WAITING_ON_WORD means the caller must
   * notify the head word, WAITING_ON_PORT that it must post a wake-up.
   */
  takeReaderWaiting(): number {
    return Atomics.load(this.#words, this.#readerWaiting) === AWAKE ? AWAKE : Atomics.exchange(this.#words, this.#readerWaiting, AWAKE);
  }

  wakeReader(): void {
    Atomics.notify(this.#words, this.#head);
  }

  /** Says the writer will write no more (after what it wrote). */
  markClosed(): void {
    Atomics.store(this.#words, this.#head - R_HEAD + R_CLOSED, 1);
  }

  /**
   * Before sleeping until the reader frees room: records how (as RingReader.prepareWait), and returns the tail to wait on, or
   * undefined when room has appeared meanwhile.
   */
  prepareWait(how: number): number | undefined {
    Atomics.store(this.#words, this.#writerWaiting, how);
    const tail = Atomics.load(this.#words, this.#tail);
    if (this.#capacity - ((this.#pos - tail) | 0) > 0) {
      Atomics.store(this.#words, this.#writerWaiting, AWAKE);
      return undefined;
    }
    return tail;
  }

  get words(): Int32Array {
    return this.#words;
  }

  get tailWord(): number {
    return this.#tail;
  }
}

export class RingReader {
  readonly #words: Int32Array;
  readonly #data: Uint8Array;
  readonly #mask: number;
  readonly #capacity: number;
  readonly #head: number;
  readonly #tail: number;
  readonly #writerWaiting: number;
  readonly #closed: number;
  /** Our own copy of the tail: only we write it. */
  #pos = 0;

  constructor(sab: SharedArrayBuffer, ring: 0 | 1, capacity: number) {
    this.#words = new Int32Array(sab);
    this.#data = new Uint8Array(sab, ringDataOffset(ring, capacity), capacity);
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#head = ringWord(ring, R_HEAD);
    this.#tail = ringWord(ring, R_TAIL);
    this.#writerWaiting = ringWord(ring, R_WRITER_WAITING);
    this.#closed = ringWord(ring, R_CLOSED);
    this.#pos = Atomics.load(this.#words, this.#tail);
  }

  /** Bytes written and not yet read. */
  available(): number {
    return (Atomics.load(this.#words, this.#head) - this.#pos) | 0;
  }

  /** True once the writer said it will write no more. */
  writerClosed(): boolean {
    return Atomics.load(this.#words, this.#closed) !== 0;
  }

  /**
   * Everything unread, as one chunk of its own, or undefined when nothing is there; the room
   * it took is free for the writer again. A copy, because the Transport contract lets the layer
   * above keep a chunk (a payload handed to a subscriber, a record decrypted later): a view into
   * the ring would change under it once the writer reuses the room. One copy per read, however
   * many frames it holds. The caller then wakes a writer waiting for room (takeWriterWaiting).
   */
  read(): Uint8Array | undefined {
    const n = this.available();
    if (n === 0) return undefined;
    const at = this.#pos & this.#mask;
    const first = this.#capacity - at;
    let out: Uint8Array;
    if (n <= first) out = this.#data.slice(at, at + n);
    else {
      out = new Uint8Array(n);
      out.set(this.#data.subarray(at, this.#capacity), 0);
      out.set(this.#data.subarray(0, n - first), first);
    }
    this.#pos = (this.#pos + n) | 0;
    Atomics.store(this.#words, this.#tail, this.#pos);
    return out;
  }

  /** Takes the writer's wait state (and clears it), as RingWriter.takeReaderWaiting. */
  takeWriterWaiting(): number {
    return Atomics.load(this.#words, this.#writerWaiting) === AWAKE ? AWAKE : Atomics.exchange(this.#words, this.#writerWaiting, AWAKE);
  }

  wakeWriter(): void {
    Atomics.notify(this.#words, this.#tail);
  }

  /**
   * Before sleeping until the writer writes: records how (`how`: WAITING_ON_WORD or
   * WAITING_ON_PORT) and returns the head to wait on, or undefined when bytes (or the close)
   * arrived meanwhile.
   */
  prepareWait(how: number): number | undefined {
    Atomics.store(this.#words, this.#readerWaiting(), how);
    const head = Atomics.load(this.#words, this.#head);
    if (head !== this.#pos || this.writerClosed()) {
      Atomics.store(this.#words, this.#readerWaiting(), AWAKE);
      return undefined;
    }
    return head;
  }

  #readerWaiting(): number {
    return this.#head - R_HEAD + R_READER_WAITING;
  }

  get words(): Int32Array {
    return this.#words;
  }

  get headWord(): number {
    return this.#head;
  }
}
