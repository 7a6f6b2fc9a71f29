/**
 * The environment configuration of applications (seed 002 §4.3), declared once: the valibot schema
 * below gives the types, the defaults and the messages; `ENVIRONMENT_SETTINGS` is the table the
 * layers, paths and secrets work from. Durations are in milliseconds, sizes in bytes.
 */
import * as v from 'valibot';
import { choice, flag, httpUrl, needsRestart, secret, section, switches, text, whole } from './fields.js';
import { defineSettings } from './settings-schema.js';

const DAY_MS = 86_400_000;

export const ENVIRONMENTS = ['development', 'staging', 'testing', 'production'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const EnvironmentConfigSchema = section({
  /** @default 'development' */
  environment: v.optional(choice(ENVIRONMENTS), 'development'),
  /** Where the app's API is. @default 'http://localhost:8080' */
  apiUrl: v.optional(httpUrl(), 'http://localhost:8080'),
  /** How often to sync, in milliseconds. @default 30000 */
  syncInterval: v.optional(whole(100, DAY_MS), 30_000),
  /** @default 'info' */
  logLevel: v.optional(choice(LOG_LEVELS), 'info'),
  /** Feature switches by name. @default {} */
  features: v.optional(switches(), {}),
  /** The key of the app's API: a secret, so sealed at rest and redacted in output. @default undefined (none) */
  apiKey: v.optional(secret(text())),
  limits: v.optional(
    section({
      /** Largest file accepted, in bytes. @default 10485760 (10 MiB) */
      maxFileSize: v.optional(whole(1, 2 ** 40), 10 * 1024 * 1024),
      /** Connections open at once; sized at start, so a change needs a restart. @default 100 */
      maxConnections: v.optional(needsRestart(whole(1, 100_000)), 100),
      /** How long a sync may take, in milliseconds. @default 30000 */
      syncTimeout: v.optional(whole(100, DAY_MS), 30_000),
    }),
    {},
  ),
  security: v.optional(
    section({
      /** @default true */
      encryptionEnabled: v.optional(flag(), true),
      /** How long authentication may take, in milliseconds. @default 10000 */
      authTimeout: v.optional(whole(100, 600_000), 10_000),
      /** Requests per second per client. @default 100 */
      rateLimit: v.optional(whole(1, 1_000_000), 100),
    }),
    {},
  ),
  credentials: v.optional(
    section({
      /** A bearer token for the app's backend: a secret. @default undefined (none) */
      token: v.optional(secret(text())),
    }),
    {},
  ),
});

/** The resolved environment configuration: every default filled in. */
export type EnvironmentConfig = v.InferOutput<typeof EnvironmentConfigSchema>;
/** A whole configuration as written: every setting optional. */
export type EnvironmentConfigInput = v.InferInput<typeof EnvironmentConfigSchema>;

export const ENVIRONMENT_SETTINGS = defineSettings(EnvironmentConfigSchema);
