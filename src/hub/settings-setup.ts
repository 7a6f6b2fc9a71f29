/**
 * The hub's settings service, wired: its bucket in the hub's stream storage, its key (see
 * src/node/settings-key-file.ts), reveal allowed to apps with a request grant on
 * `$SYS.REQ.SETTINGS.REVEAL` (every app on a hub started --insecure), changes in the audit log.
 * A hub without stream storage answers every settings request with CB_ERR_STREAMS_UNAVAILABLE.
 */
import { createError } from '../core/errors/index.js';
import type { Session } from '../core/broker/session.js';
import { DEFAULT_SETTINGS_HISTORY, SettingsService } from '../core/settings/settings-service.js';
import { SETTINGS_BUCKET, SETTINGS_REVEAL_TOPIC } from '../core/settings/settings-wire.js';
import type { StreamService } from '../core/streams/stream-service.js';
import type { AuditSink } from '../core/security/audit.js';
import type { BrokerSecurity } from '../core/security/broker-security.js';
import { loadSettingsKey } from '../node/settings-key-file.js';

export async function settingsService(
  dataDir: string | undefined,
  streams: StreamService<Session> | undefined,
  sec: { security: BrokerSecurity | undefined; audit: AuditSink },
): Promise<SettingsService> {
  const key = await loadSettingsKey(dataDir);
  return new SettingsService({
    key,
    bucket: () =>
      streams === undefined
        ? Promise.reject(createError('CB_ERR_STREAMS_UNAVAILABLE', 'settings live in a bucket: this hub stores no streams'))
        : streams.bucket(SETTINGS_BUCKET, { history: DEFAULT_SETTINGS_HISTORY }),
    mayReveal: (app) => {
      const verdict = sec.security?.check(app, 'request', SETTINGS_REVEAL_TOPIC);
      return verdict === undefined || (verdict.allowed && !verdict.ask);
    },
    audit: (event) => sec.audit.record(event),
  });
}
