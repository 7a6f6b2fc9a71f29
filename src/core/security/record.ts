import { createError } from '../errors/index.js';
import { Kind, PROTOCOL_VERSION, PayloadType } from '../protocol/envelope.js';
import {
  FLAG_SECURITY,
  LENGTH_PREFIX_BYTES,
  OFF_FLAGS,
  OFF_ID,
  OFF_KIND,
  OFF_SEQ,
  OFF_TIMESTAMP,
  OFF_VERSION,
} from '../protocol/layout.js';
import { type Aead, type Awaitable, type CryptoProvider, type Gmac, type Mac, type SealedParts, isPromise } from './crypto.js';
import { expandLabel } from './key-schedule.js';
import { then } from './maybe.js';

/**
 * Protected records. After the handshake every write is one SEALED frame carrying a batch of
 * ordinary frames, so the per-call cost of the crypto is paid once per batch, not per message:
 *
 *   0  u32 body length | 4 version | 5 kind=15 | 6 flags=BYTES|SECURITY | 7 0
 *   8  u32 id=0 | 12 u32 sid=0 | 16 u64 record counter | 24 u64 timestamp (ms)
 *   32 u16 0 | 34 u16 0 | 36 u8 0                      (no topic, replyTo, group)
 *   37 u16 security block length = 3 + 4 + T
 *   39 u8 4, u32 key epoch | 44 u8 0 (nonce: derived, never sent) | 45 u8 T, tag[T]
 *   46+T  payload: AES-256-GCM ciphertext (T=16), or the plaintext (integrity only: AES-256-GMAC,
 *         T=16, or HMAC-SHA256, T=32)
 *
 * The tag covers every byte on the wire except itself: AES-GCM takes bytes 0..46 as associated
 * data; AES-GMAC and HMAC run over bytes 0..46 followed by the payload. The nonce (AES-GCM and
 * AES-GMAC) is the epoch's IV XOR the counter (TLS 1.3 style), so a nonce never repeats under a
 * key. The counter must be exactly the next one (replayed, reordered and dropped records are all
 * detected) and the timestamp must lie inside the skew window.
 */
export type ProtectionMode = 'encrypt' | 'integrity';

/**
 * How an integrity-only record is authenticated. AES-256-GMAC (NIST SP 800-38D) is GCM's
 * authentication alone, as fast as the cipher's hardware path; HMAC-SHA256 is there for peers
 * that must use it.
 */
export type IntegrityAlgorithm = 'aes-256-gmac' | 'hmac-sha256';
export const INTEGRITY_ALGORITHMS: readonly IntegrityAlgorithm[] = ['aes-256-gmac', 'hmac-sha256'];

/** What protects the records of one session, as the handshake settled it. */
export type RecordSuite = 'aes-256-gcm' | IntegrityAlgorithm;

export function recordSuite(mode: ProtectionMode, integrity: IntegrityAlgorithm | undefined): RecordSuite {
  return mode === 'encrypt' ? 'aes-256-gcm' : (integrity ?? 'hmac-sha256');
}

export const RECORD_TAG_OFFSET = 46;
const SEC_BLOCK_OFFSET = 37;
const EPOCH_OFFSET = 40;
const TWO_32 = 0x1_0000_0000;

export function tagLength(suite: RecordSuite): number {
  return suite === 'hmac-sha256' ? 32 : 16;
}

/** Rekeying bounds: far inside AES-GCM's limits (NIST SP 800-38D; TLS 1.3 uses ~2^24.5 records). */
export interface RekeyPolicy {
  /** Records under one key before the sender moves to the next. */
  afterRecords: number;
  /** Milliseconds under one key before the sender moves to the next. */
  afterMs: number;
  /** Payload bytes under one key before the sender moves to the next. */
  afterBytes: number;
}

interface EpochKeys {
  readonly epoch: number;
  readonly secret: Uint8Array;
  readonly iv: Uint8Array;
  /** Exactly one of the three is set, by the suite. */
  readonly aead: Aead | undefined;
  readonly gmac: Gmac | undefined;
  readonly mac: Mac | undefined;
}

function epochKeys(c: CryptoProvider, suite: RecordSuite, epoch: number, secret: Uint8Array): Awaitable<EpochKeys> {
  const none = { aead: undefined, gmac: undefined, mac: undefined };
  return then(expandLabel(c, secret, 'key'), (key) =>
    then(expandLabel(c, secret, 'iv', undefined, 12), (iv) =>
      suite === 'aes-256-gcm'
        ? then(c.aes256gcm(key), (aead) => ({ epoch, secret, iv, ...none, aead }))
        : suite === 'aes-256-gmac'
          ? then(c.aes256gmac(key), (gmac) => ({ epoch, secret, iv, ...none, gmac }))
          : then(c.hmacKey(key), (mac) => ({ epoch, secret, iv, ...none, mac })),
    ),
  );
}

function nextEpoch(c: CryptoProvider, suite: RecordSuite, current: EpochKeys): Awaitable<EpochKeys> {
  return then(expandLabel(c, current.secret, 'update'), (next) => epochKeys(c, suite, current.epoch + 1, next));
}

function nonceFor(iv: Uint8Array, counter: number): Uint8Array {
  const n = iv.slice();
  const hi = Math.floor(counter / TWO_32);
  const lo = counter >>> 0;
  n[4] = (n[4] as number) ^ (hi >>> 24);
  n[5] = (n[5] as number) ^ ((hi >>> 16) & 0xff);
  n[6] = (n[6] as number) ^ ((hi >>> 8) & 0xff);
  n[7] = (n[7] as number) ^ (hi & 0xff);
  n[8] = (n[8] as number) ^ (lo >>> 24);
  n[9] = (n[9] as number) ^ ((lo >>> 16) & 0xff);
  n[10] = (n[10] as number) ^ ((lo >>> 8) & 0xff);
  n[11] = (n[11] as number) ^ (lo & 0xff);
  return n;
}

/** Sending half of a protected session. seal() must be called in order (see SerialQueue). */
export class RecordSealer {
  private keys: Awaitable<EpochKeys>;
  private counter = 0;
  private records = 0;
  private bytes = 0;
  private startedAt: number;
  readonly tagLen: number;

  constructor(
    private readonly crypto: CryptoProvider,
    readonly suite: RecordSuite,
    trafficSecret: Uint8Array,
    private readonly rekey: RekeyPolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.tagLen = tagLength(suite);
    this.keys = epochKeys(crypto, suite, 0, trafficSecret);
    this.startedAt = now();
  }

  /** Records sealed so far (the next record's counter). */
  get sealed(): number {
    return this.counter;
  }

  /**
   * Seals `plaintext` into one record. With `headroom` of at least `RECORD_TAG_OFFSET + tagLen`
   * free bytes before `plaintext` in its buffer (see FrameWriter), the record is built in place:
   * header and tag go into those bytes, and an encrypted record's ciphertext over the plaintext
   * (an integrity record leaves the plaintext where it is). Otherwise the record gets a new
   * buffer and `plaintext` stays as it was.
   */
  seal(plaintext: Uint8Array, headroom = 0): Awaitable<Uint8Array> {
    const now = this.now();
    if (this.records >= this.rekey.afterRecords || this.bytes >= this.rekey.afterBytes || now - this.startedAt >= this.rekey.afterMs) {
      this.keys = then(this.keys, (k) => nextEpoch(this.crypto, this.suite, k));
      this.records = 0;
      this.bytes = 0;
      this.startedAt = now;
    }
    const counter = this.counter++;
    this.records++;
    this.bytes += plaintext.length;
    // With synchronous crypto (Node) the keys are a plain value: no closure per record.
    const keys = this.keys;
    return isPromise(keys)
      ? keys.then((k) => this.build(k, counter, now, plaintext, headroom))
      : this.build(keys, counter, now, plaintext, headroom);
  }

  private build(k: EpochKeys, counter: number, now: number, plaintext: Uint8Array, headroom: number): Awaitable<Uint8Array> {
    const T = this.tagLen;
    const head = RECORD_TAG_OFFSET + T;
    const total = head + plaintext.length;
    // The bytes before the plaintext were handed over with it and are ours to write: the header
    // and tag go there, and an AES-GCM ciphertext (as long as the plaintext) over the plaintext.
    const inPlace = headroom >= head;
    const out = inPlace ? new Uint8Array(plaintext.buffer, plaintext.byteOffset - head, total) : new Uint8Array(total);
    if (inPlace) out.fill(0, 0, RECORD_TAG_OFFSET);
    const v = new DataView(out.buffer, out.byteOffset, total);
    v.setUint32(0, total - LENGTH_PREFIX_BYTES);
    out[OFF_VERSION] = PROTOCOL_VERSION;
    out[OFF_KIND] = Kind.SEALED;
    out[OFF_FLAGS] = PayloadType.BYTES | FLAG_SECURITY;
    v.setUint32(OFF_SEQ, Math.floor(counter / TWO_32));
    v.setUint32(OFF_SEQ + 4, counter >>> 0);
    v.setUint32(OFF_TIMESTAMP, Math.floor(now / TWO_32));
    v.setUint32(OFF_TIMESTAMP + 4, now >>> 0);
    v.setUint16(SEC_BLOCK_OFFSET, 3 + 4 + T);
    out[39] = 4;
    v.setUint32(EPOCH_OFFSET, k.epoch);
    out[44] = 0;
    out[45] = T;
    const aad = out.subarray(0, RECORD_TAG_OFFSET);
    if (k.aead !== undefined) {
      const sealed = k.aead.seal(nonceFor(k.iv, counter), aad, plaintext);
      return isPromise(sealed) ? sealed.then((s) => placeSealed(out, head, s)) : placeSealed(out, head, sealed);
    }
    if (!inPlace) out.set(plaintext, head);
    const tag = k.gmac !== undefined ? k.gmac.sign(nonceFor(k.iv, counter), aad, plaintext) : (k.mac as Mac).sign(aad, plaintext);
    return then(tag, (t) => {
      out.set(t, RECORD_TAG_OFFSET);
      return out;
    });
  }
}

/** Puts an AEAD's tag and ciphertext into the record after its header. */
function placeSealed(out: Uint8Array, head: number, { ciphertext, tag }: SealedParts): Uint8Array {
  out.set(tag, RECORD_TAG_OFFSET);
  out.set(ciphertext, head);
  return out;
}

function integrity(message: string, details?: Record<string, unknown>) {
  return createError('CB_ERR_INTEGRITY', message, details ? { details } : {});
}

/** Receiving half of a protected session. open() must be called in order. */
export class RecordOpener {
  private keys: Awaitable<EpochKeys>;
  private epoch = 0;
  private expected = 0;
  readonly tagLen: number;

  constructor(
    private readonly crypto: CryptoProvider,
    readonly suite: RecordSuite,
    trafficSecret: Uint8Array,
    private readonly maxSkewMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tagLen = tagLength(suite);
    this.keys = epochKeys(crypto, suite, 0, trafficSecret);
  }

  /** Records opened so far. */
  get opened(): number {
    return this.expected;
  }

  /**
   * Verifies and opens the SEALED frame buf[start, end). Returns the protected frames. Throws (or
   * rejects with) CB_ERR_INTEGRITY, CB_ERR_REPLAY or CB_ERR_CLOCK_SKEW; any of them ends the session.
   */
  open(buf: Uint8Array, start: number, end: number): Awaitable<Uint8Array> {
    const T = this.tagLen;
    const len = end - start;
    if (len < RECORD_TAG_OFFSET) throw integrity('record is shorter than its header');
    const v = new DataView(buf.buffer, buf.byteOffset + start, len);
    if (
      buf[start + OFF_FLAGS] !== (PayloadType.BYTES | FLAG_SECURITY) ||
      v.getUint32(OFF_ID) !== 0 ||
      v.getUint32(OFF_ID + 4) !== 0 ||
      v.getUint32(32) !== 0 ||
      buf[start + 36] !== 0 ||
      buf[start + 39] !== 4 ||
      buf[start + 44] !== 0
    ) {
      throw integrity('record header is not in the protected form');
    }
    if (buf[start + 45] !== T || v.getUint16(SEC_BLOCK_OFFSET) !== 3 + 4 + T || len < RECORD_TAG_OFFSET + T) {
      throw integrity(`record tag must be ${T} bytes`, { tagLength: buf[start + 45] });
    }
    const epoch = v.getUint32(EPOCH_OFFSET);
    if (epoch === this.epoch + 1) {
      // The sender moved to its next key; the old one is forgotten (forward secrecy inside a session).
      this.keys = then(this.keys, (k) => nextEpoch(this.crypto, this.suite, k));
      this.epoch = epoch;
    } else if (epoch !== this.epoch) {
      throw integrity(`record under unknown key epoch ${epoch} (current ${this.epoch})`, { epoch });
    }
    const counter = v.getUint32(OFF_SEQ) * TWO_32 + v.getUint32(OFF_SEQ + 4);
    const timestamp = v.getUint32(OFF_TIMESTAMP) * TWO_32 + v.getUint32(OFF_TIMESTAMP + 4);
    const aad = buf.subarray(start, start + RECORD_TAG_OFFSET);
    const tag = buf.subarray(start + RECORD_TAG_OFFSET, start + RECORD_TAG_OFFSET + T);
    const payload = buf.subarray(start + RECORD_TAG_OFFSET + T, end);
    const keys = this.keys;
    if (!isPromise(keys) && keys.aead !== undefined) {
      // The common case without a closure per record: synchronous crypto (Node), AES-GCM.
      const plain = keys.aead.open(nonceFor(keys.iv, counter), aad, payload, tag);
      return isPromise(plain) ? plain.then((p) => this.acceptOpened(counter, timestamp, p)) : this.acceptOpened(counter, timestamp, plain);
    }
    return then(keys, (k) => {
      if (k.aead !== undefined) {
        return then(k.aead.open(nonceFor(k.iv, counter), aad, payload, tag), (plain) => this.acceptOpened(counter, timestamp, plain));
      }
      const verified =
        k.gmac !== undefined ? k.gmac.verify(nonceFor(k.iv, counter), tag, aad, payload) : (k.mac as Mac).verify(tag, aad, payload);
      return then(verified, (ok) => {
        if (!ok) throw integrity(`record failed authentication (${this.suite === 'aes-256-gmac' ? 'AES-GMAC' : 'HMAC-SHA256'})`);
        return this.accept(counter, timestamp, payload);
      });
    });
  }

  private acceptOpened(counter: number, timestamp: number, plain: Uint8Array | null): Uint8Array {
    if (plain === null) throw integrity('record failed authentication (AES-GCM tag)');
    return this.accept(counter, timestamp, plain);
  }

  /** Runs only for authentic records, so the codes below are precise, not guesses. */
  private accept(counter: number, timestamp: number, plain: Uint8Array): Uint8Array {
    if (counter !== this.expected) {
      const what = counter < this.expected ? 'replayed or reordered' : 'arrived after a gap (records were dropped or reordered)';
      throw createError('CB_ERR_REPLAY', `record ${counter} ${what}; expected ${this.expected}`, {
        details: { counter, expected: this.expected },
      });
    }
    const skew = timestamp - this.now();
    if (skew > this.maxSkewMs || skew < -this.maxSkewMs) {
      throw createError('CB_ERR_CLOCK_SKEW', `record timestamp is ${Math.round(skew / 1000)} s off (window ±${this.maxSkewMs / 1000} s)`, {
        details: { skewMs: skew, maxSkewMs: this.maxSkewMs },
      });
    }
    this.expected++;
    return plain;
  }
}
