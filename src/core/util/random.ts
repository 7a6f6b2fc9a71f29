/** `bytes` random bytes from the runtime's CSPRNG (WebCrypto: Node, browsers, workers), as hex. */
export function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
