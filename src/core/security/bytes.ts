/** Base64 for secrets, keys and binary payloads in JSON (isomorphic: no Buffer). UTF-8 is in protocol/utf8.ts. */

/** Bytes per String.fromCharCode call: well below every engine's limit on arguments. */
const CHARS_PER_CALL = 0x8000;

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  // btoa is native (in Node too) and faster than encoding in JS, even with the binary string it needs first.
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHARS_PER_CALL) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHARS_PER_CALL) as unknown as number[]);
  }
  return btoa(binary);
}

/** Decodes standard or URL-safe base64 (padding optional). Returns undefined for invalid input. */
export function fromBase64(text: string): Uint8Array | undefined {
  // atob alone would also skip whitespace; the alphabet check keeps decoding strict.
  if (!/^[\w+/-]*=*$/.test(text)) return undefined;
  const s = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (s.length % 4 === 1) return undefined;
  const bin = atob(s); // native in browsers; in Node still faster than decoding in JS here
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
