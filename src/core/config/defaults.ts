/**
 * What each hub config setting is when the file does not name it. The schema applies these; the
 * security layer (rate limits, abuse control, consent) falls back to the same values, so a hub
 * without a config and a hub whose config omits a setting behave alike. Values both ends of a
 * connection share (clock skew, re-keying, secret size) live in security/defaults.ts and are
 * re-exported here, so the config is one place to look. No valibot here: the security layer
 * imports these without the schema.
 */
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REKEY_AFTER_MS, DEFAULT_REKEY_AFTER_RECORDS, MIN_SECRET_BYTES } from '../security/defaults.js';
import type { EncryptionMode, RateLimit, TopicRate } from './schema.js';

export { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REKEY_AFTER_MS, MIN_SECRET_BYTES };

/** Clients choose; encryption is their default. @default 'preferred' */
export const DEFAULT_ENCRYPTION: EncryptionMode = 'preferred';
/** Records under one key before re-keying. @default 1_000_000 */
export const DEFAULT_REKEY_AFTER_MESSAGES = DEFAULT_REKEY_AFTER_RECORDS;
/** How long a consent prompt waits for a person. @default 60_000 */
export const DEFAULT_CONSENT_TIMEOUT_MS = 60_000;
/** Violations within `windowMs` after which a connection is cut as abusive. @default { violationsPerWindow: 50, windowMs: 10_000 } */
// Not typed as AbuseConfig: the schema takes its defaults from here, and AbuseConfig from the schema.
export const DEFAULT_ABUSE = Object.freeze({ violationsPerWindow: 50, windowMs: 10_000 });
/** Hub-wide message rate per connection. @default { perSecond: 1000, burst: 2000 } */
export const DEFAULT_RATE: Readonly<RateLimit> = Object.freeze({ perSecond: 1000, burst: 2000 });
/** Allowed browser origins. @default [] (no browser page may connect) */
export const DEFAULT_ORIGINS: readonly string[] = Object.freeze([]);
/** Per-topic rates. @default [] */
export const DEFAULT_TOPIC_RATES: readonly TopicRate[] = Object.freeze([]);
/** Id given to a lone `secret`. @default 'k1' */
export const DEFAULT_KEY_ID = 'k1';
