/**
 * One sealed value: AES-256-GCM through WebCrypto (never hand-written), a random 96-bit IV per
 * seal, additional data bound in, written as `v1.<base64 iv>.<base64 ciphertext and tag>`.
 */
import { ConfigError } from '../errors/index.js';
import { fromBase64, toBase64 } from '../security/bytes.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BITS = 128;
const VERSION = 'v1';

function subtle(): SubtleCrypto {
  const found = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  // Browsers offer it only in secure contexts.
  if (found === undefined) throw new ConfigError('CB_ERR_INVALID_OPTION', 'WebCrypto (globalThis.crypto.subtle) is not available');
  return found;
}

const bs = (bytes: Uint8Array): BufferSource => bytes as Uint8Array<ArrayBuffer>;

/**
 * The key secrets are sealed with: 32 bytes (from the hub's key ring, or an environment
 * variable), held as a CryptoKey that cannot be exported and is not in the object's JSON.
 */
export class SettingsKey {
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** Imports 32 raw bytes. Throws CB_ERR_INVALID_OPTION for any other length (the key is never quoted). */
  static async import(raw: Uint8Array): Promise<SettingsKey> {
    if (!(raw instanceof Uint8Array) || raw.length !== KEY_BYTES)
      throw new ConfigError('CB_ERR_INVALID_OPTION', `a settings key must be ${KEY_BYTES} bytes`, {
        details: { length: raw instanceof Uint8Array ? raw.length : undefined },
      });
    return new SettingsKey(await subtle().importKey('raw', bs(raw), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']));
  }

  /** Seals `plaintext` bound to `aad`, under a fresh random IV: `v1.<iv>.<ciphertext and tag>`. */
  async seal(aad: Uint8Array, plaintext: Uint8Array): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await subtle().encrypt(
      { name: 'AES-GCM', iv: bs(iv), additionalData: bs(aad), tagLength: TAG_BITS },
      this.#key,
      bs(plaintext),
    );
    return `${VERSION}.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
  }

  /**
   * Opens a sealed token, or returns undefined: a malformed token, the wrong key, other additional
   * data and an altered byte all look the same to the caller, which names the path, never the value.
   */
  async open(aad: Uint8Array, token: string): Promise<Uint8Array | undefined> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return undefined;
    const iv = fromBase64(parts[1] as string);
    const sealed = fromBase64(parts[2] as string);
    if (iv === undefined || iv.length !== IV_BYTES || sealed === undefined || sealed.length < TAG_BITS / 8) return undefined;
    try {
      const plain = await subtle().decrypt(
        { name: 'AES-GCM', iv: bs(iv), additionalData: bs(aad), tagLength: TAG_BITS },
        this.#key,
        bs(sealed),
      );
      return new Uint8Array(plain);
    } catch {
      return undefined;
    }
  }
}
