import type { Awaitable, CryptoProvider } from './crypto.js';
import { then } from './maybe.js';
import { encodeUtf8 } from '../protocol/utf8.js';

/**
 * The key schedule, modelled on TLS 1.3's PSK + (EC)DHE mode (RFC 8446 section 7.1):
 *
 *   early     = HKDF-Extract(0, psk)
 *   keyId     = Expand(early, "key id", "", 8)          names the secret on the wire, reveals nothing
 *   binderKey = Expand(early, "binder", "", 32)          HELLO's binder: "I know the secret"
 *   hs        = HKDF-Extract(Expand(early, "derived", "", 32), ECDHE shared secret)
 *   TH        = SHA-256(len|HELLO payload|len|WELCOME payload)   the transcript, bytes as sent
 *   hub proof    = HMAC(Expand(hs, "hub finished", TH), TH)
 *   client proof = HMAC(Expand(hs, "client finished", TH), TH)
 *   c2h / h2c traffic secret = Expand(hs, "c2h traffic" | "h2c traffic", TH)
 *   per key epoch: key = Expand(secret, "key"), iv = Expand(secret, "iv", 12), next = Expand(secret, "update")
 *
 * Fresh ephemeral keys on both sides make every session's keys new (a recorded session cannot be
 * replayed) and forward secret (the PSK alone does not decrypt a recording); the PSK in `early`
 * authenticates both sides without ever being sent.
 */
const LABEL_PREFIX = 'crossbus1 ';

/** info = "crossbus1 " || label || 0x00 || context. */
function info(label: string, context: Uint8Array): Uint8Array {
  const l = encodeUtf8(LABEL_PREFIX + label);
  const out = new Uint8Array(l.length + 1 + context.length);
  out.set(l, 0);
  out.set(context, l.length + 1);
  return out;
}

const EMPTY = new Uint8Array(0);
const ZEROS32 = new Uint8Array(32);

export function expandLabel(
  c: CryptoProvider,
  secret: Uint8Array,
  label: string,
  context: Uint8Array = EMPTY,
  length = 32,
): Awaitable<Uint8Array> {
  return c.hkdfExpand(secret, info(label, context), length);
}

export interface PskSecrets {
  readonly keyId: string;
  readonly binderKey: Uint8Array;
  readonly derived: Uint8Array;
}

/** Everything derived from the pre-shared secret alone (cacheable per configured key). */
export function pskSecrets(c: CryptoProvider, psk: Uint8Array): Awaitable<PskSecrets> {
  return then(c.hkdfExtract(ZEROS32, psk), (early) =>
    then(expandLabel(c, early, 'key id', EMPTY, 8), (id) =>
      then(expandLabel(c, early, 'binder'), (binderKey) =>
        then(expandLabel(c, early, 'derived'), (derived) => ({ keyId: toHex(id), binderKey, derived })),
      ),
    ),
  );
}

/** SHA-256 over length-prefixed parts, so that no two splits of the same bytes collide. */
export function transcriptHash(c: CryptoProvider, ...parts: Uint8Array[]): Awaitable<Uint8Array> {
  let n = 0;
  for (const p of parts) n += 4 + p.length;
  const buf = new Uint8Array(n);
  const v = new DataView(buf.buffer);
  let o = 0;
  for (const p of parts) {
    v.setUint32(o, p.length);
    buf.set(p, o + 4);
    o += 4 + p.length;
  }
  return c.sha256(buf);
}

export interface SessionSecrets {
  readonly hubProofKey: Uint8Array;
  readonly clientProofKey: Uint8Array;
  /** Client to hub. */
  readonly c2h: Uint8Array;
  /** Hub to client. */
  readonly h2c: Uint8Array;
}

export function sessionSecrets(c: CryptoProvider, psk: PskSecrets, shared: Uint8Array, th: Uint8Array): Awaitable<SessionSecrets> {
  return then(c.hkdfExtract(psk.derived, shared), (hs) =>
    then(expandLabel(c, hs, 'hub finished', th), (hubProofKey) =>
      then(expandLabel(c, hs, 'client finished', th), (clientProofKey) =>
        then(expandLabel(c, hs, 'c2h traffic', th), (c2h) =>
          then(expandLabel(c, hs, 'h2c traffic', th), (h2c) => ({ hubProofKey, clientProofKey, c2h, h2c })),
        ),
      ),
    ),
  );
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, '0');
  return s;
}
