/**
 * The hub's settings service, wired: its bucket in the hub's stream storage, its key (see
 * src/node/settings-key-file.ts), reveal allowed to apps with a request grant on
 * `$SYS.REQ.SETTINGS.REVEAL` (every app on a hub started --insecure), changes in the audit log.
 * A hub without stream storage answers every settings request with CB_ERR_STREAMS_UNAVAILABLE.
 */
import { ConfigError, createError } from '../core/errors/index.js';
import type { HubBucket } from '../core/kv/hub-bucket.js';
import type { Session } from '../core/broker/session.js';
import { DEFAULT_SETTINGS_HISTORY, SettingsService } from '../core/settings/settings-service.js';
import { SETTINGS_BUCKET, SETTINGS_REVEAL_TOPIC } from '../core/settings/settings-wire.js';
import { MAX_KV_HISTORY } from '../core/kv/options.js';
import type { StreamService } from '../core/streams/stream-service.js';
import type { AuditSink } from '../core/security/audit.js';
import type { BrokerSecurity } from '../core/security/broker-security.js';
import { loadSettingsKey } from '../node/settings-key-file.js';
import { HubOverlayService } from '../core/settings/hub-overlay-service.js';
import { serializeHubConfig } from '../core/config/serialize.js';
import type { HubSecurityRuntime } from './security-setup.js';

/** The hub's settings service limits (HubOptions.settings). */
export interface HubSettingsOptions {
  /** Longest a live-update WAIT is held. @default DEFAULT_SETTINGS_MAX_WAIT_MS */
  maxWaitMs?: number;
  /** WAITs held at once. @default DEFAULT_SETTINGS_MAX_WAITERS */
  maxWaiters?: number;
  /** Versions kept per layer (1 to 64). @default DEFAULT_SETTINGS_HISTORY */
  history?: number;
}

export async function settingsService(
  dataDir: string | undefined,
  streams: StreamService<Session> | undefined,
  sec: { security: BrokerSecurity | undefined; audit: AuditSink },
  options: HubSettingsOptions = {},
): Promise<SettingsService> {
  const history = options.history ?? DEFAULT_SETTINGS_HISTORY;
  if (history > MAX_KV_HISTORY) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `settings.history must be at most ${MAX_KV_HISTORY}`, {
      details: { option: 'settings.history' },
    });
  }
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < (name === 'maxWaitMs' ? 0 : 1))) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `settings.${name} must be a whole number`, {
        details: { option: `settings.${name}` },
      });
    }
  }
  const key = await loadSettingsKey(dataDir);
  return new SettingsService({
    key,
    bucket: () => settingsBucket(streams, history),
    mayReveal: (app) => {
      const verdict = sec.security?.check(app, 'request', SETTINGS_REVEAL_TOPIC);
      return verdict === undefined || (verdict.allowed && !verdict.ask);
    },
    audit: (event) => sec.audit.record(event),
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    ...(options.maxWaiters !== undefined ? { maxWaiters: options.maxWaiters } : {}),
  });
}

/**
 * `crossbus config … --hub`: the hub's limits and roles from its settings bucket, checked as a
 * reload, applied at once (sessions re-checked), and restored at the next start.
 */
export function hubOverlayService(
  streams: StreamService<Session> | undefined,
  sec: Pick<HubSecurityRuntime, 'previewOverlay' | 'setOverlay' | 'config'>,
  reapply: () => void,
  history: number,
): HubOverlayService {
  return new HubOverlayService({
    bucket: () => settingsBucket(streams, history),
    existingBucket: async () => streams?.existingBucket(SETTINGS_BUCKET),
    check: (overlay, author) => void sec.previewOverlay(overlay, author),
    apply: (overlay, author) => {
      sec.setOverlay(overlay, author);
      reapply();
    },
    effective: () => {
      const config = sec.config;
      if (config === undefined) return {};
      const doc = serializeHubConfig(config);
      return { limits: doc.limits, roles: doc.roles };
    },
  });
}

/** The hub's settings bucket, created on first use; CB_ERR_STREAMS_UNAVAILABLE on a hub without streams. */
function settingsBucket(streams: StreamService<Session> | undefined, history: number): Promise<HubBucket> {
  return streams === undefined
    ? Promise.reject(createError('CB_ERR_STREAMS_UNAVAILABLE', 'settings live in a bucket: this hub stores no streams'))
    : streams.bucket(SETTINGS_BUCKET, { history });
}
