/**
 * A growable byte buffer that frames are encoded into back to back. Senders batch every frame
 * produced in one turn of the event loop into one write: this, not the codec, is what makes
 * small messages fast.
 */
export class FrameWriter {
  #buf: Uint8Array;
  view: DataView;
  length = 0;
  /**
   * Small batches are copied out into consecutive slices of this slab rather than each into a
   * buffer of its own: allocating an ArrayBuffer costs more than the copy. A slice is never
   * written again once handed out; the slab is replaced when full.
   */
  #slab: Uint8Array | undefined;
  #slabUsed = 0;

  constructor(private readonly initialSize = 16 * 1024) {
    this.#buf = new Uint8Array(initialSize);
    this.view = new DataView(this.#buf.buffer);
  }

  get bytes(): Uint8Array {
    return this.#buf;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.view = new DataView(next.buffer);
  }

  /**
   * Hands over what was written and starts afresh; the returned bytes are never written again. They
   * may be a view into a larger buffer: a transport that needs a buffer of its own copies them.
   */
  take(): Uint8Array {
    const n = this.length;
    if (n <= this.#buf.length >>> 2) {
      // A small batch: copy it out and keep our buffer.
      let slab = this.#slab;
      if (slab === undefined || this.#slabUsed + n > slab.length) {
        slab = this.#slab = new Uint8Array(Math.max(this.initialSize, n));
        this.#slabUsed = 0;
      }
      const small = slab.subarray(this.#slabUsed, this.#slabUsed + n);
      small.set(this.#buf.subarray(0, n));
      this.#slabUsed += n;
      this.length = 0;
      return small;
    }
    const out = this.#buf.subarray(0, this.length);
    // The old buffer now belongs to the caller (a transport may still be writing it out).
    this.#buf = new Uint8Array(Math.max(this.initialSize, Math.min(this.length, 1 << 20)));
    this.view = new DataView(this.#buf.buffer);
    this.length = 0;
    return out;
  }
}
