import { ProtocolError } from '../errors/index.js';
import { LENGTH_PREFIX_BYTES, RECORD_HEADROOM } from '../protocol/layout.js';
import type { Transport, TransportHandlers } from './transport.js';

/**
 * Gives a byte-stream transport (`framing: 'stream'`: TCP, Unix sockets, shared-memory rings,
 * where chunk boundaries mean nothing) message framing: every chunk it hands up holds whole
 * frames. The hub and the client both put it right above the transport, so that the record
 * layer, the codec and routing only ever see whole frames, on any transport. A transport that
 * keeps message boundaries already is returned as it is.
 *
 * `maxFrameBytes` is the largest frame body the layer above accepts (it is read at every length
 * prefix, so a client can adopt the hub's limits after WELCOME); a protected record around one
 * such frame is let through too, and nothing larger: a peer cannot make it buffer more than one
 * frame. A prefix over that is handed up as it is, so that the layer above refuses it with its own error
 * (`CB_ERR_FRAME_TOO_LARGE`) and close code, exactly as over a message transport; nothing after it
 * is read. A stream that ends inside a frame closes with `CB_ERR_FRAME_TRUNCATED` as its error.
 */
export function reframe(transport: Transport, maxFrameBytes: () => number): Transport {
  return transport.framing === 'message'
    ? transport
    : new ReframedTransport(transport, () => maxFrameBytes() + LENGTH_PREFIX_BYTES + RECORD_HEADROOM);
}

export type Reframe = typeof reframe;

class ReframedTransport implements Transport {
  readonly kind: string;
  readonly framing = 'message' as const;
  readonly peer: string;
  readonly origin: string | undefined;
  readonly vouchedOrigin: string | undefined;
  readonly peerCertificate: string | undefined;
  /** Copies of the pieces of a frame that has not all arrived (the caller may reuse its chunks). */
  #pieces: Uint8Array[] = [];
  /** Bytes of the unfinished frame that have arrived: only these are held, never its declared length. */
  #have = 0;
  /** The unfinished frame's whole length, once its length prefix has arrived (0 until then). */
  #need = 0;
  #refused = false;

  constructor(
    readonly inner: Transport,
    private readonly maxBodyBytes: () => number,
  ) {
    this.kind = inner.kind;
    this.peer = inner.peer;
    this.origin = inner.origin;
    this.vouchedOrigin = inner.vouchedOrigin;
    this.peerCertificate = inner.peerCertificate;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.inner.setHandlers({
      message: (chunk) => this.#onChunk(chunk, handlers),
      close: (info) =>
        handlers.close(this.#have > 0 && !info.local && info.error === undefined ? { ...info, error: truncated(this.#have) } : info),
      drain: () => handlers.drain?.(),
    });
  }

  send(chunk: Uint8Array, headroom?: number): void {
    this.inner.send(chunk, headroom);
  }

  bufferedAmount(): number {
    return this.inner.bufferedAmount();
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }

  #onChunk(chunk: Uint8Array, up: TransportHandlers): void {
    if (this.#refused) return;
    const n = chunk.length;
    let p = 0;
    if (this.#have > 0) {
      p = this.#complete(chunk, up);
      if (p < 0) return;
    }
    // Whole frames of this chunk go up in one piece, without a copy.
    const start = p;
    while (p + LENGTH_PREFIX_BYTES <= n) {
      const body = prefixAt(chunk, p);
      if (body > this.maxBodyBytes()) {
        // The frames before it are whole and go up first, on their own.
        if (p > start) up.message(chunk.subarray(start, p));
        return this.#refuse(chunk.subarray(p), up);
      }
      const end = p + LENGTH_PREFIX_BYTES + body;
      if (end > n) break;
      p = end;
    }
    if (p > start) up.message(start === 0 && p === n ? chunk : chunk.subarray(start, p));
    if (p < n) {
      // The start of an unfinished frame (its prefix, when whole, was checked above).
      const rest = chunk.slice(p);
      this.#pieces = [rest];
      this.#have = rest.length;
      this.#need = rest.length >= LENGTH_PREFIX_BYTES ? LENGTH_PREFIX_BYTES + prefixAt(rest, 0) : 0;
    }
  }

  /** Feeds the unfinished frame from `chunk`; returns where the rest of the chunk starts, or -1 when it was all used (or refused). */
  #complete(chunk: Uint8Array, up: TransportHandlers): number {
    let p = 0;
    if (this.#need === 0) {
      p = Math.min(LENGTH_PREFIX_BYTES - this.#have, chunk.length);
      this.#pieces.push(chunk.slice(0, p));
      this.#have += p;
      if (this.#have < LENGTH_PREFIX_BYTES) return -1;
      const prefix = joined(this.#pieces, LENGTH_PREFIX_BYTES);
      this.#pieces = [prefix];
      const body = prefixAt(prefix, 0);
      if (body > this.maxBodyBytes()) {
        this.#refuse(prefix, up);
        return -1;
      }
      this.#need = LENGTH_PREFIX_BYTES + body;
    }
    const take = Math.min(this.#need - this.#have, chunk.length - p);
    if (take > 0) {
      this.#pieces.push(chunk.slice(p, p + take));
      this.#have += take;
      p += take;
    }
    if (this.#have < this.#need) return -1;
    const frame = joined(this.#pieces, this.#need);
    this.#pieces = [];
    this.#have = 0;
    this.#need = 0;
    up.message(frame);
    return p;
  }

  #refuse(bytes: Uint8Array, up: TransportHandlers): void {
    this.#refused = true;
    this.#pieces = [];
    this.#have = 0;
    this.#need = 0;
    up.message(bytes);
  }
}

/** The pieces as one array of `length` bytes (a single piece of that length is used as it is). */
function joined(pieces: readonly Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1 && (pieces[0] as Uint8Array).length === length) return pieces[0] as Uint8Array;
  const out = new Uint8Array(length);
  let o = 0;
  for (const piece of pieces) {
    out.set(piece, o);
    o += piece.length;
  }
  return out;
}

function prefixAt(buf: Uint8Array, p: number): number {
  return (buf[p] as number) * 0x1000000 + (((buf[p + 1] as number) << 16) | ((buf[p + 2] as number) << 8) | (buf[p + 3] as number));
}

function truncated(have: number): ProtocolError {
  return new ProtocolError('CB_ERR_FRAME_TRUNCATED', `the stream ended inside a frame (${have} bytes of it arrived)`, {
    details: { have },
  });
}
