/**
 * A growable byte buffer that frames are encoded into back to back. Senders batch every frame
 * produced in one turn of the event loop into one write: this, not the codec, is what makes
 * small messages fast.
 */
export class FrameWriter {
  private buf: Uint8Array;
  view: DataView;
  length = 0;

  constructor(private readonly initialSize = 16 * 1024) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  get bytes(): Uint8Array {
    return this.buf;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Hands over what was written and starts a fresh buffer; the returned bytes are never reused. */
  take(): Uint8Array {
    if (this.length <= this.buf.length >>> 2) {
      // A small batch: copy it out (an exact-size buffer a port can transfer) and keep ours.
      const small = this.buf.slice(0, this.length);
      this.length = 0;
      return small;
    }
    const out = this.buf.subarray(0, this.length);
    // The old buffer now belongs to the caller (a transport may still be writing it out).
    this.buf = new Uint8Array(Math.max(this.initialSize, Math.min(this.length, 1 << 20)));
    this.view = new DataView(this.buf.buffer);
    this.length = 0;
    return out;
  }
}
