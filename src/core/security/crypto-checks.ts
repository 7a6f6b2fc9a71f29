/**
 * Argument checks and errors shared by the crypto providers (Node and WebCrypto), so that both
 * refuse the same inputs with the same codes.
 */
import { createError } from '../errors/index.js';
import { fromBase64 } from './bytes.js';

/** AES-GCM nonce length: 96 bits, the only size the record layer uses. */
export const NONCE_LEN = 12;

export function authFailed(message: string, cause?: unknown): Error {
  return createError('CB_ERR_AUTH_FAILED', message, cause === undefined ? {} : { cause });
}

export function invalidOption(message: string, cause?: unknown): Error {
  return createError('CB_ERR_INVALID_OPTION', message, cause === undefined ? {} : { cause });
}

export function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== NONCE_LEN) throw invalidOption(`AES-GCM nonce must be ${NONCE_LEN} bytes, got ${nonce.length}`);
}

/** Strict base64url decoding of a JWK coordinate or scalar of exactly `length` bytes. */
export function jwkBytes(value: unknown, length: number, what: string): Uint8Array {
  const bytes = typeof value === 'string' && /^[A-Za-z0-9_-]*$/.test(value) ? fromBase64(value) : undefined;
  if (bytes === undefined || bytes.length !== length) throw invalidOption(`JWK ${what} must be ${length} base64url bytes`);
  return bytes;
}
