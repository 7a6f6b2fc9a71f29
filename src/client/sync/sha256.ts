/**
 * SHA-256 from the runtime's WebCrypto: all that sync needs of a crypto provider (stream names,
 * change hashes, chunk ids), so a page that adds sync does not carry the whole WebCrypto provider.
 */
import { ConfigError } from '../../core/errors/index.js';
import type { CryptoProvider } from '../../core/security/crypto.js';

/** What sync uses of a CryptoProvider. */
export type Sha256Provider = Pick<CryptoProvider, 'sha256'>;

/** Throws CB_ERR_INVALID_OPTION where there is no WebCrypto (a browser page that is not a secure context). */
export function webCryptoSha256(): Sha256Provider {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle === undefined) {
    throw new ConfigError(
      'CB_ERR_INVALID_OPTION',
      'sync needs SHA-256: WebCrypto (globalThis.crypto.subtle) is not available here (browsers offer it in secure contexts only); pass options.crypto',
      { details: { option: 'crypto' } },
    );
  }
  return { sha256: async (data: Uint8Array) => new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)) };
}
