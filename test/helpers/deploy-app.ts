/**
 * Versions of the deployment tests' app (test/fixtures/apps/deploy-app/main.mjs) as folders to
 * pack and deploy: `orders` in the test config, two instances, ready once `orders.health`
 * answers; `config` as its manifest's (see main.mjs: `unhealthy`, `failEvery`, `crash`, `delayMs`).
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestConfigDocument } from './security.js';

const APP_MAIN = fileURLToPath(new URL('../fixtures/apps/deploy-app/main.mjs', import.meta.url));

export function deployAppVersion(version: string, config: Record<string, unknown> = {}, name = 'orders'): string {
  const dir = mkdtempSync(join(tmpdir(), `crossbus-deploy-${version}-`));
  copyFileSync(APP_MAIN, join(dir, 'main.mjs'));
  writeFileSync(
    join(dir, 'crossbus.app.json'),
    JSON.stringify({
      name,
      version,
      kind: 'node',
      entry: 'main.mjs',
      instances: 2,
      healthCheck: { intervalMs: 500, timeoutMs: 2_000, topic: 'orders.health' },
      config,
    }),
  );
  return dir;
}

/**
 * The hub config's `orders-service` role with a request grant on `$SYS.REQ.DEPLOY.ATTACH`: the
 * hub lets any app's ATTACH through, but the client checks its grants before sending, so an app
 * whose grants do not cover it is never attached (reported to the manager's author).
 */
export function withAttachGrant(config: TestConfigDocument): TestConfigDocument {
  const roles = (config as unknown as { roles: Record<string, { request: string[] }> }).roles;
  roles['orders-service']!.request = [...roles['orders-service']!.request, '$SYS.REQ.DEPLOY.ATTACH'];
  return config;
}
