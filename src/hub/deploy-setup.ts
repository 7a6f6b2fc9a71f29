/**
 * The hub's deployment manager (src/hub/deploy/), wired: its store under the data folder, the
 * supervisors' shared options (the hub's own URL, the config's app secrets), consent for the
 * environments that need an approval, the audit log. Without a data folder the hub runs no
 * deployments (they must survive a restart).
 */
import { DEFAULT_KEY_ID } from '../core/defaults.js';
import { toBase64 } from '../core/security/bytes.js';
import type { HubConfig } from '../core/config/schema.js';
import type { Broker } from '../core/broker/broker.js';
import type { AuditSink } from '../core/security/audit.js';
import type { ConsentManager } from '../core/security/consent.js';
import type { Logger } from '../core/util/logger.js';
import type { PackageLimits } from '../node/apps/app-package.js';
import type { RestartPolicyOptions } from '../node/apps/restart-policy.js';
import { DeployStore } from './deploy/deploy-store.js';
import { DeploymentManager, type EnvironmentPolicy } from './deploy/deployment-manager.js';
import type { GrantPolicy } from './deploy/manifest-grants.js';

export interface HubDeployOptions {
  /** Policy per target environment. @default production requires an approval through consent */
  readonly environments?: Readonly<Record<string, EnvironmentPolicy>>;
  /** Deployments kept in each app's history. @default 50 */
  readonly historyLimit?: number;
  /** Bounds of an uploaded package. @default 500 files, 700000 bytes */
  readonly packageLimits?: PackageLimits;
  /** Backoff and crash-loop detection of every instance. @default RestartPolicy's defaults */
  readonly restart?: RestartPolicyOptions;
  /** SIGTERM to SIGKILL, in ms. @default 10000 */
  readonly stopGraceMs?: number;
  /** Node flags for every instance. @default [] */
  readonly execArgv?: readonly string[];
}

/** `startHub({ deployments })`: `false` turns them off; `true` or options with a data folder turn them on. @default true */
export type HubDeployOption = boolean | HubDeployOptions;

export interface DeploySetup {
  readonly dataDir: string | undefined;
  readonly option: HubDeployOption;
  readonly broker: Broker;
  /** The hub's WebSocket URL (instances connect there). */
  readonly url: string;
  readonly config: HubConfig | undefined;
  readonly consent: ConsentManager | undefined;
  /** The hub's policy (its security), for the manifests' grants; undefined on a hub without security. */
  readonly grants: GrantPolicy | undefined;
  readonly audit: AuditSink;
  readonly logger: Logger;
}

export async function openDeployments(o: DeploySetup): Promise<DeploymentManager | undefined> {
  if (o.option === false || o.dataDir === undefined) return undefined;
  const options = o.option === true ? {} : o.option;
  const manager = new DeploymentManager({
    store: new DeployStore(o.dataDir),
    broker: o.broker,
    supervisor: {
      url: o.url,
      logger: o.logger,
      ...(options.restart === undefined ? {} : { restart: options.restart }),
      ...(options.stopGraceMs === undefined ? {} : { stopGraceMs: options.stopGraceMs }),
      ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
    },
    // An instance authenticates as its app with the app's default key (the config's `secret`).
    secretOf: (app) => {
      const key = o.config?.apps.get(app)?.keys.find((k) => k.id === DEFAULT_KEY_ID);
      return key === undefined ? undefined : toBase64(key.secret);
    },
    knownApp: o.config === undefined ? undefined : (app) => o.config?.apps.has(app) === true,
    consent: o.consent,
    ...(o.grants === undefined ? {} : { grants: o.grants }),
    audit: o.audit,
    logger: o.logger,
    ...(options.environments === undefined ? {} : { environments: options.environments }),
    ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
    ...(options.packageLimits === undefined ? {} : { packageLimits: options.packageLimits }),
  });
  await manager.open();
  return manager;
}
