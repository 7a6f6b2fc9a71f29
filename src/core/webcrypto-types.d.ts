/**
 * WebCrypto's type names, as the core's WebCrypto provider uses them. Browsers' DOM library has
 * them; Node's types have the functions but not these global names, so the isomorphic layers and
 * Node's layers both include this file (see runtime-globals.d.ts for the rest of the globals).
 */
type BufferSource = ArrayBufferView<ArrayBuffer> | ArrayBuffer;
interface JsonWebKey {
  kty?: string;
  crv?: string;
  d?: string;
  x?: string;
  y?: string;
  k?: string;
  ext?: boolean;
  key_ops?: string[];
}
interface CryptoKey {
  readonly algorithm: { name: string };
  readonly extractable: boolean;
  readonly type: string;
  readonly usages: string[];
}
interface CryptoKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}
type AlgorithmIdentifier = string | { name: string; [parameter: string]: unknown };
interface SubtleCrypto {
  digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
  importKey(
    format: 'raw' | 'pkcs8' | 'spki',
    keyData: BufferSource,
    algorithm: AlgorithmIdentifier,
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKey>;
  importKey(format: 'jwk', keyData: JsonWebKey, algorithm: AlgorithmIdentifier, extractable: boolean, usages: string[]): Promise<CryptoKey>;
  exportKey(format: 'raw' | 'pkcs8' | 'spki', key: CryptoKey): Promise<ArrayBuffer>;
  exportKey(format: 'jwk', key: CryptoKey): Promise<JsonWebKey>;
  generateKey(algorithm: { name: 'ECDH'; namedCurve: string }, extractable: boolean, usages: string[]): Promise<CryptoKeyPair>;
  generateKey(algorithm: AlgorithmIdentifier, extractable: boolean, usages: string[]): Promise<CryptoKeyPair | CryptoKey>;
  sign(algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  encrypt(algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  decrypt(algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  deriveBits(algorithm: AlgorithmIdentifier, key: CryptoKey, length: number): Promise<ArrayBuffer>;
}
interface Crypto {
  readonly subtle: SubtleCrypto;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
}
