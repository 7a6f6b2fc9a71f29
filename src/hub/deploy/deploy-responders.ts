/**
 * The deployment manager's `$SYS.REQ.DEPLOY.*` requests (deploy-topics.ts). Each needs a request
 * grant on its topic (an admin role's), except ATTACH, which any app may send: its token is the
 * proof, and it binds only the asking connection.
 */
import {
  DEPLOY_ABORT,
  DEPLOY_ATTACH,
  DEPLOY_HISTORY,
  DEPLOY_PROMOTE,
  DEPLOY_ROLLBACK,
  DEPLOY_START,
  DEPLOY_STATUS,
} from '../../core/apps/deploy-topics.js';
import type { SystemRequest, SystemResponders } from '../../core/broker/system-requests.js';
import { createError } from '../../core/errors/index.js';
import type { DeploymentManager } from './deployment-manager.js';

const obj = (data: unknown): Record<string, unknown> =>
  typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};

function appOf(r: SystemRequest, topic: string): string {
  const app = obj(r.data).app;
  if (typeof app !== 'string' || app === '') throw createError('CB_ERR_PAYLOAD_INVALID', `${topic} takes { app: string }`);
  return app;
}

/** The requests, answered by `manager()`; undefined: this hub runs no deployments (CB_ERR_INVALID_OPTION). */
export function deployResponders(manager: () => DeploymentManager | undefined): SystemResponders {
  const m = (): DeploymentManager => {
    const d = manager();
    if (d === undefined) throw createError('CB_ERR_INVALID_OPTION', 'this hub runs no deployments: start it with a data folder');
    return d;
  };
  return {
    [DEPLOY_START]: async (r) => {
      const { package: pkg, config } = obj(r.data);
      return { deployment: await m().start(pkg as never, config, r.app) };
    },
    [DEPLOY_STATUS]: (r) => {
      const app = obj(r.data).app;
      return m().status(typeof app === 'string' && app !== '' ? app : undefined);
    },
    [DEPLOY_PROMOTE]: (r) => ({ deployment: m().promote(appOf(r, DEPLOY_PROMOTE)) }),
    [DEPLOY_ABORT]: (r) => ({ deployment: m().abort(appOf(r, DEPLOY_ABORT), r.app) }),
    [DEPLOY_ROLLBACK]: async (r) => ({ deployment: await m().rollback(appOf(r, DEPLOY_ROLLBACK), r.app, obj(r.data).config) }),
    [DEPLOY_HISTORY]: (r) => m().history(appOf(r, DEPLOY_HISTORY)),
    [DEPLOY_ATTACH]: (r) => m().attach(obj(r.data).token, r.connectionId),
  };
}
