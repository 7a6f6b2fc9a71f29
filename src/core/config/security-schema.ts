/**
 * The `security` section of the hub config: encryption, integrity-only algorithms, clocks,
 * re-keying, consent and abuse control. Every field has a default (src/core/defaults.ts).
 */
import * as v from 'valibot';
import { INTEGRITY_ALGORITHMS } from '../security/record.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REKEY_AFTER_MS } from '../defaults.js';
import { distinct, integer, list, settings, stringOrKind } from './rules.js';
import {
  DEFAULT_ABUSE,
  DEFAULT_CONSENT_TIMEOUT_MS,
  DEFAULT_ENCRYPTION,
  DEFAULT_INTEGRITY_ALGORITHMS,
  DEFAULT_REKEY_AFTER_MESSAGES,
} from '../defaults.js';

/** `required`: every client must encrypt; `preferred`: clients choose, encryption by default. */
export const EncryptionSchema = v.picklist(
  ['required', 'preferred'],
  (issue) => `must be "required" or "preferred", got ${stringOrKind(issue.input)}`,
);

const ALGORITHMS = INTEGRITY_ALGORITHMS.join(', ');
const integrityAlgorithms = v.pipe(
  list(v.picklist(INTEGRITY_ALGORITHMS, (issue) => `must be one of ${ALGORITHMS}, got ${stringOrKind(issue.input)}`)),
  v.minLength(1, `must name at least one of ${ALGORITHMS}`),
  distinct(
    (a) => a,
    (a) => `${JSON.stringify(a)} is listed twice`,
  ),
  v.transform((algorithms) => Object.freeze(algorithms)),
);

export const AbuseSchema = v.pipe(
  settings({
    violationsPerWindow: v.optional(integer(1, 1_000_000), DEFAULT_ABUSE.violationsPerWindow),
    windowMs: v.optional(integer(1000, 86_400_000), DEFAULT_ABUSE.windowMs),
  }),
  v.readonly(),
);

export const SecuritySchema = v.pipe(
  settings({
    encryption: v.optional(EncryptionSchema, DEFAULT_ENCRYPTION),
    /** Integrity-only algorithms the hub accepts (the client's first choice among them wins). */
    integrityAlgorithms: v.optional(integrityAlgorithms, DEFAULT_INTEGRITY_ALGORITHMS),
    maxClockSkewMs: v.optional(integer(1000, 3_600_000), DEFAULT_MAX_CLOCK_SKEW_MS),
    rekeyAfterMessages: v.optional(integer(1, 2 ** 24), DEFAULT_REKEY_AFTER_MESSAGES),
    rekeyAfterMs: v.optional(integer(1000, 86_400_000), DEFAULT_REKEY_AFTER_MS),
    consentTimeoutMs: v.optional(integer(1000, 86_400_000), DEFAULT_CONSENT_TIMEOUT_MS),
    abuse: v.optional(AbuseSchema, DEFAULT_ABUSE),
  }),
  v.readonly(),
);
