/**
 * A growable byte buffer that frames are encoded into back to back. Senders batch every frame
 * produced in one turn of the event loop into one write: this, not the codec, is what makes
 * small messages fast.
 */
export class FrameWriter {
  #buf!: Uint8Array;
  view!: DataView;
  length = 0;
  /**
   * Small batches are copied out into consecutive slices of this slab rather than each into a
   * buffer of its own: allocating an ArrayBuffer costs more than the copy. A slice is never
   * written again once handed out; the slab is replaced when full.
   */
  #slab: Uint8Array | undefined;
  #slabUsed = 0;

  /**
   * @param initialSize buffer size to start with (it grows as needed)
   * @param headroom bytes left free before every batch that take() hands out, in the same
   *   buffer, for the transport to write its own header into (a sealed record's header and tag)
   *   instead of copying the batch into a new buffer. @default 0
   */
  constructor(
    private readonly initialSize = 16 * 1024,
    readonly headroom = 0,
  ) {
    this.#fresh(initialSize);
  }

  /** Starts a new buffer of `size` usable bytes after `headroom` free ones; returns the old one. */
  #fresh(size: number): Uint8Array {
    const old = this.#buf;
    const h = this.headroom;
    const buf = new Uint8Array(h + size);
    this.#buf = buf.subarray(h);
    this.view = new DataView(buf.buffer, h);
    return old;
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
    const old = this.#fresh(size);
    this.#buf.set(old.subarray(0, this.length));
  }

  /**
   * Hands over what was written and starts afresh; the returned bytes are never written again. They
   * may be a view into a larger buffer: a transport that needs a buffer of its own copies them. The
   * `headroom` bytes just before them are the receiver's to overwrite.
   */
  take(): Uint8Array {
    const n = this.length;
    if (n <= this.#buf.length >>> 2) {
      // A small batch: copy it out and keep our buffer.
      const h = this.headroom;
      let slab = this.#slab;
      if (slab === undefined || this.#slabUsed + h + n > slab.length) {
        slab = this.#slab = new Uint8Array(Math.max(this.initialSize, h + n));
        this.#slabUsed = 0;
      }
      const at = this.#slabUsed + h;
      const small = slab.subarray(at, at + n);
      small.set(this.#buf.subarray(0, n));
      this.#slabUsed = at + n;
      this.length = 0;
      return small;
    }
    const out = this.#buf.subarray(0, this.length);
    // The old buffer now belongs to the caller (a transport may still be writing it out).
    this.#fresh(Math.max(this.initialSize, Math.min(this.length, 1 << 20)));
    this.length = 0;
    return out;
  }
}
