import type { KeyExchangeGroup } from './crypto.js';
import type { IntegrityAlgorithm, ProtectionMode } from './record.js';
/** Defaults of the security layer that both sides share. Hub-side policy defaults live in config/defaults.ts. */

/** Clock skew accepted in either direction for hellos and records. @default 30_000 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;
/** Records under one key before the sender re-keys. @default 1_000_000 */
export const DEFAULT_REKEY_AFTER_RECORDS = 1_000_000;
/** Time under one key before the sender re-keys. @default 3_600_000 (one hour) */
export const DEFAULT_REKEY_AFTER_MS = 3_600_000;
/** Payload bytes under one key before the sender re-keys. @default 2**34 (16 GiB, far inside AES-GCM's bounds) */
export const DEFAULT_REKEY_AFTER_BYTES = 2 ** 34;
/** Group for the ephemeral key exchange. P-256 is in every WebCrypto. @default 'P-256' */
export const DEFAULT_KEY_EXCHANGE_GROUP: KeyExchangeGroup = 'P-256';
/** Records are encrypted unless a client asks for integrity only. @default 'encrypt' */
export const DEFAULT_PROTECTION_MODE: ProtectionMode = 'encrypt';
/**
 * Integrity-only algorithms a client offers and a hub accepts, in order of preference.
 * @default ['aes-256-gmac', 'hmac-sha256']
 */
export const DEFAULT_INTEGRITY_ALGORITHMS: readonly IntegrityAlgorithm[] = ['aes-256-gmac', 'hmac-sha256'];
/** Secrets shorter than this are refused. @default 32 */
export const MIN_SECRET_BYTES = 32;
