/**
 * The deploy suite's app as the hub's deployment manager runs it (bench/apps/managed-app/): a
 * version of it as a folder to pack, and a deployment of it started and followed to its outcome
 * through `$SYS.REQ.DEPLOY.*`, as `crossbus deploy` would.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeploymentConfigInput } from '../../src/core/apps/deploy-config.js';
import { DEPLOY_HISTORY, DEPLOY_START, type DeploymentRecord } from '../../src/core/apps/deploy-topics.js';
import { packApp } from '../../src/node/apps/app-package.js';
import type { Requester } from './steady-load.js';

/** An app of the test config (test/helpers/security.ts), so the row also runs on a secure hub. */
export const MANAGED_APP_NAME = 'orders';
const APP_MAIN = fileURLToPath(new URL('../apps/managed-app/main.mjs', import.meta.url));

/**
 * A folder holding `version` of the app: `instances` instances serving `topic` (one service
 * group), ready once `<topic>.health` answers; `config` is merged into its manifest's (e.g.
 * `{ failEvery: 5 }`).
 */
export function managedAppVersion(opts: { version: string; topic: string; instances: number; config?: Record<string, unknown> }): string {
  const dir = mkdtempSync(join(tmpdir(), `crossbus-bench-app-${opts.version}-`));
  copyFileSync(APP_MAIN, join(dir, 'main.mjs'));
  const healthTopic = `${opts.topic}.health`;
  writeFileSync(
    join(dir, 'crossbus.app.json'),
    JSON.stringify({
      name: MANAGED_APP_NAME,
      version: opts.version,
      kind: 'node',
      entry: 'main.mjs',
      instances: opts.instances,
      healthCheck: { intervalMs: 250, timeoutMs: 2_000, topic: healthTopic },
      config: { topic: opts.topic, healthTopic, ...opts.config },
    }),
  );
  return dir;
}

/** Packs `dir` and starts its deployment; resolves with its record once the hub staged it. */
export async function startDeployment(bus: Requester, dir: string, config: DeploymentConfigInput): Promise<DeploymentRecord> {
  const r = (await bus.request(DEPLOY_START, { package: await packApp(dir), config }, { timeoutMs: 15_000 })) as {
    deployment: DeploymentRecord;
  };
  return r.deployment;
}

/** The deployment `id` once it ended (from the history, asked every `pollMs`); rejects after `timeoutMs`. */
export async function deploymentOutcome(bus: Requester, id: string, timeoutMs = 60_000, pollMs = 50): Promise<DeploymentRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { history } = (await bus.request(DEPLOY_HISTORY, { app: MANAGED_APP_NAME })) as { history: DeploymentRecord[] };
    const found = history.find((d) => d.id === id && d.outcome !== undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`deployment ${id} did not end within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Deploys `dir` and waits for the outcome; rejects unless it succeeded. */
export async function deploy(bus: Requester, dir: string, config: DeploymentConfigInput): Promise<DeploymentRecord> {
  const d = await deploymentOutcome(bus, (await startDeployment(bus, dir, config)).id);
  if (d.outcome !== 'succeeded') throw new Error(`deployment of ${d.to} (${d.strategy}): ${d.outcome}: ${d.reason ?? ''}`);
  return d;
}
