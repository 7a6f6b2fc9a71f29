import { overlayHubConfig } from '../core/config/overlay.js';
import { HUB_OVERLAY_TARGET } from '../core/settings/hub-overlay-service.js';
import { mkdir, writeFile, rm } from 'node:fs/promises';
import { parseHubConfig, type HubConfig } from '../core/config/schema.js';
import { ConfigError, CrossbusError } from '../core/errors/index.js';
import type { AuditSink } from '../core/security/audit.js';
import { nullAuditSink } from '../core/security/audit.js';
import {
  ConsentManager,
  consentAuditEvent,
  emptyConsentState,
  type ConsentPersistence,
  type ConsentState,
} from '../core/security/consent.js';
import { HubSecurity } from '../core/security/hub-security.js';
import type { AppKey } from '../core/config/app-schema.js';
import { originAllowed } from '../core/security/origins.js';
import type { Logger } from '../core/util/logger.js';
import { logCritical } from '../core/util/component-logger.js';
import { AuditLog } from '../node/audit/audit-log.js';
import { ensureConfigFile, loadConfigFile } from '../node/config/config-file.js';
import { drainConsentInbox, FileConsentStore } from '../node/consent/consent-store.js';
import { createNodeCryptoProvider } from '../node/crypto/node-provider.js';
import { AUDIT_FILE_NAME, HUB_PID_FILE_NAME, dataFile } from '../node/paths.js';

export interface SecuritySetupOptions {
  dataDir: string | undefined;
  configFile: string | undefined;
  config: unknown;
  insecure: boolean;
  auditFile: string | undefined;
  /** HubOptions.identifyByOrigin. */
  identifyByOrigin: boolean;
  logger: Logger;
  /** HubSecurityOptions.extraKeys: keys the hub issues itself (dashboard sessions). */
  extraKeys?: (app: string) => readonly AppKey[] | undefined;
}

/** Everything security-related a Node hub owns: config source, audit log, consent, policy. */
export interface HubSecurityRuntime {
  /** Undefined for --insecure. */
  readonly security: HubSecurity | undefined;
  readonly config: HubConfig | undefined;
  readonly configPath: string | undefined;
  readonly audit: AuditSink;
  readonly auditFile: string | undefined;
  readonly consent: ConsentManager | undefined;
  originAllowed(origin: string | undefined): boolean;
  /** Re-reads the config file and applies it (the overlay, if any, on top); on a bad file the old config stays. */
  reloadConfig(): Promise<HubConfig>;
  /**
   * Lays `overlay` (limits and roles from the settings bucket) over the config file's and applies
   * the result, audited as a reload; undefined removes it. On a bad overlay the config in force
   * stays (CB_ERR_CONFIG_INVALID). Kept on top of every later file reload.
   */
  setOverlay(overlay: unknown, author: string): HubConfig;
  /** What `setOverlay(overlay)` would apply, without applying it (CB_ERR_CONFIG_INVALID with the path; a refusal is audited). */
  previewOverlay(overlay: unknown, author: string): HubConfig;
  /** Applies decisions queued by `crossbus consent grant|deny|revoke`. */
  processConsentInbox(): Promise<number>;
  close(): Promise<void>;
}

class MemoryConsentStore implements ConsentPersistence {
  private state: ConsentState = emptyConsentState();
  load(): ConsentState {
    return this.state;
  }
  save(state: ConsentState): void {
    this.state = state;
  }
}

export async function setupSecurity(o: SecuritySetupOptions): Promise<HubSecurityRuntime> {
  const { dataDir, logger } = o;
  if (o.config !== undefined && o.configFile !== undefined) {
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'pass either config or configFile, not both');
  }
  let config: HubConfig | undefined;
  let configPath: string | undefined = o.configFile;
  if (o.config !== undefined) config = parseHubConfig(o.config, 'config option');
  else if (o.configFile !== undefined) config = await loadConfigFile(o.configFile);
  else if (!o.insecure) {
    if (dataDir === undefined) {
      throw new ConfigError(
        'CB_ERR_CONFLICTING_OPTIONS',
        'a secure hub needs a config: pass dataDir (a config with fresh secrets is created there), configFile or config; or insecure: true',
      );
    }
    const ensured = await ensureConfigFile(dataDir, logger);
    config = ensured.config;
    configPath = ensured.path;
    if (!ensured.created) logger.info(`using config ${ensured.path}`);
  }

  const auditFile = o.auditFile ?? (dataDir !== undefined ? dataFile(dataDir, AUDIT_FILE_NAME) : undefined);
  let auditLog: AuditLog | undefined;
  if (auditFile !== undefined) {
    auditLog = await AuditLog.open({
      file: auditFile,
      logger,
      onError: (err) =>
        logCritical(logger, { error: String(err), file: auditFile }, 'AUDIT LOG WRITE FAILED: security events are not being recorded'),
    });
  } else if (!o.insecure) {
    logger.warn('no data directory and no audit file: security events are not recorded');
  }
  const audit: AuditSink = auditLog ?? nullAuditSink;

  let consent: ConsentManager | undefined;
  let security: HubSecurity | undefined;
  let onConsentRevoked: (() => void) | undefined;
  if (!o.insecure && config !== undefined) {
    consent = new ConsentManager({
      store: dataDir !== undefined ? new FileConsentStore(dataDir) : new MemoryConsentStore(),
      timeoutMs: config.security.consentTimeoutMs,
      onEvent: (e) => {
        const entry = consentAuditEvent(e);
        if (entry !== undefined) audit.record(entry);
        if (e.type === 'requested') {
          logger.warn(
            `consent needed: app ${e.request.app} wants to ${e.request.action} ${e.request.target} (rule ${e.request.pattern}); decide with: crossbus consent grant|deny ${e.request.id}`,
          );
        } else if (e.type === 'error') logger.error({ error: String(e.error) }, 'consent state could not be saved');
        else if (e.type === 'revoked' && e.decision.decision === 'granted') onConsentRevoked?.();
      },
    });
    await consent.load();
    security = new HubSecurity({
      crypto: createNodeCryptoProvider(),
      config,
      audit,
      consent,
      identifyByOrigin: o.identifyByOrigin,
      ...(o.extraKeys !== undefined ? { extraKeys: o.extraKeys } : {}),
    });
  }
  if (o.insecure) {
    logger.warn(
      'INSECURE MODE: no authentication, no integrity, no encryption, no access control. Anyone who can reach this port can read and write everything. Never use this outside a test.',
    );
  }

  // What the file (or the config option) says, and what the settings bucket lays over it.
  let fileConfig = config;
  let overlay: unknown;
  /** A reload (of the file, or of the settings bucket's overlay) that failed: audited, nothing applied. */
  const reloadFailed = (app: string, target: string, err: unknown): void => {
    const reason = err instanceof CrossbusError ? `${err.code}: ${err.message}` : String(err);
    audit.record({ actor: { app }, action: 'config-reload', target, outcome: 'failure', reason });
  };
  const noConfig = (): ConfigError =>
    new ConfigError('CB_ERR_INVALID_OPTION', 'a hub started --insecure has no config to lay settings over');
  /** The file's config with `next` laid over it (undefined: the file's alone); a refusal is audited. */
  const overlaid = (next: unknown, author: string): HubConfig => {
    if (fileConfig === undefined) throw noConfig();
    try {
      return next === undefined ? fileConfig : overlayHubConfig(fileConfig, next);
    } catch (err) {
      reloadFailed(author, HUB_OVERLAY_TARGET, err);
      throw err;
    }
  };
  const runtime: HubSecurityRuntime & { setRevokedHandler(fn: () => void): void } = {
    security,
    get config() {
      return security?.current ?? config;
    },
    configPath,
    audit,
    auditFile,
    consent,
    setRevokedHandler: (fn) => {
      onConsentRevoked = fn;
    },
    // Exact match only (no prefix or suffix tricks, no case folding); 'null' only when listed.
    // The list is normalized (parseHubConfig) and browsers send the header normalized, so the
    // header must equal an entry byte for byte: one not in that canonical form matches nothing.
    originAllowed: (origin) => {
      if (origin === undefined) return true; // not a browser: it must still authenticate
      const list = (security?.current ?? config)?.origins ?? [];
      return originAllowed(list, origin);
    },
    previewOverlay: (next, author) => overlaid(next, author),
    setOverlay: (next, author) => {
      if (security === undefined) throw noConfig();
      const applied = overlaid(next, author);
      try {
        security.reload(applied);
      } catch (err) {
        reloadFailed(author, HUB_OVERLAY_TARGET, err);
        throw err;
      }
      overlay = next;
      audit.record({
        actor: { app: author },
        action: 'config-reload',
        target: HUB_OVERLAY_TARGET,
        outcome: 'success',
        details: { sections: next === undefined ? [] : Object.keys(next as object) },
      });
      return applied;
    },
    reloadConfig: async () => {
      if (configPath === undefined || security === undefined) {
        throw new ConfigError('CB_ERR_INVALID_OPTION', 'this hub has no config file to reload');
      }
      let next: HubConfig;
      const before = security.current;
      try {
        const loaded = await loadConfigFile(configPath);
        next = overlay === undefined ? loaded : overlayHubConfig(loaded, overlay);
        security.reload(next);
        fileConfig = loaded;
      } catch (err) {
        reloadFailed('hub', configPath, err);
        throw err;
      }
      audit.record({
        actor: { app: 'hub' },
        action: 'config-reload',
        target: configPath,
        outcome: 'success',
        details: { apps: next.apps.size, roles: next.roles.size },
      });
      for (const change of keyChanges(before, next))
        audit.record({
          actor: { app: 'hub' },
          action: 'key-rotate',
          target: `${change.app}/${change.keyId}`,
          outcome: 'info',
          reason: change.what,
        });
      return next;
    },
    processConsentInbox: async () => {
      if (dataDir === undefined || consent === undefined) return 0;
      const commands = await drainConsentInbox(dataDir, (line, reason) =>
        logger.warn({ reason, line: line.slice(0, 200) }, 'ignored a bad consent command'),
      );
      for (const cmd of commands) {
        const r = await consent.apply(cmd);
        if (!r.ok) logger.warn(`consent ${cmd.op} not applied: ${r.reason}`);
        else logger.info(`consent ${cmd.op}: app ${r.decision.app} ${r.decision.action} ${r.decision.pattern} -> ${r.decision.decision}`);
      }
      return commands.length;
    },
    close: async () => {
      await consent?.close();
      await auditLog?.close();
    },
  };
  return runtime;
}

/** `{ pid, url }` in the data directory, so CLI commands can reach the running hub. */
export async function writePidFile(dataDir: string, url: string): Promise<() => Promise<void>> {
  const file = dataFile(dataDir, HUB_PID_FILE_NAME);
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${JSON.stringify({ pid: process.pid, url })}\n`, { mode: 0o600 });
  return () => rm(file, { force: true });
}

/** Keys added, removed or re-dated between two configs (ids only: secrets never go to the audit log). */
export function keyChanges(before: HubConfig, after: HubConfig): Array<{ app: string; keyId: string; what: string }> {
  const out: Array<{ app: string; keyId: string; what: string }> = [];
  const apps = new Set([...before.apps.keys(), ...after.apps.keys()]);
  for (const app of apps) {
    const a = new Map((before.apps.get(app)?.keys ?? []).map((k) => [k.id, k]));
    const b = new Map((after.apps.get(app)?.keys ?? []).map((k) => [k.id, k]));
    for (const [id, k] of b) {
      const old = a.get(id);
      if (old === undefined) out.push({ app, keyId: id, what: 'key added' });
      else if (old.expiresAt !== k.expiresAt || old.notBefore !== k.notBefore) {
        out.push({
          app,
          keyId: id,
          what: `validity changed${k.expiresAt !== undefined ? `: expires ${new Date(k.expiresAt).toISOString()}` : ''}`,
        });
      }
    }
    for (const id of a.keys()) if (!b.has(id)) out.push({ app, keyId: id, what: 'key removed' });
  }
  return out;
}
