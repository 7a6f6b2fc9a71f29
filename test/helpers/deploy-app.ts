/**
 * Versions of the deployment tests' app (test/fixtures/apps/deploy-app/main.mjs) as folders to
 * pack and deploy: `orders` in the test config, two instances, ready once `orders.health`
 * answers; `config` as its manifest's (see main.mjs: `unhealthy`, `failEvery`, `crash`, `delayMs`).
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const APP_MAIN = fileURLToPath(new URL('../fixtures/apps/deploy-app/main.mjs', import.meta.url));

export function deployAppVersion(version: string, config: Record<string, unknown> = {}, name = 'orders', instances = 2): string {
  const dir = mkdtempSync(join(tmpdir(), `crossbus-deploy-${version}-`));
  copyFileSync(APP_MAIN, join(dir, 'main.mjs'));
  writeFileSync(
    join(dir, 'crossbus.app.json'),
    JSON.stringify({
      name,
      version,
      kind: 'node',
      entry: 'main.mjs',
      instances,
      healthCheck: { intervalMs: 500, timeoutMs: 2_000, topic: 'orders.health' },
      config,
    }),
  );
  return dir;
}
