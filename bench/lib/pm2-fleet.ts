/**
 * The deploy suite's app under pm2 (npm `pm2`, its own bin from node_modules): fork mode, N
 * instances, restarts at pm2's defaults. PM2_HOME is a fresh temp folder, so nothing touches
 * ~/.pm2 or another pm2 on the machine; stop() runs `pm2 kill` (the apps, then the daemon), and
 * whatever is still alive after it (or when the bench process exits early) is SIGKILLed by pid:
 * the daemon's (from its pid file) and the apps' the suite learnt.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY_APP_DIR, DEPLOY_APP_ENTRY, DEPLOY_APP_NAME } from './deploy-app.js';
import { REPO_ROOT } from './procs.js';

const PM2_BIN = join(REPO_ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
const PM2_COMMAND_TIMEOUT_MS = 30_000;

export interface Pm2Fleet {
  /** Remember an app's pid, so that it is killed if pm2 leaves it behind. */
  track(pid: number): void;
  /** `pm2 kill`, then SIGKILL for anything still alive; removes PM2_HOME. Idempotent. */
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pm2(home: string, args: string[]): Promise<string> {
  // The bench's own CROSSBUS_* are not the app's: it gets only the URL, in its config below.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toUpperCase().startsWith('CROSSBUS_')) env[k] = v;
  Object.assign(env, { PM2_HOME: home, PM2_NO_INTERACTION: 'true', PM2_DISCRETE_MODE: 'true' });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PM2_BIN, ...args], { env, cwd: DEPLOY_APP_DIR, timeout: PM2_COMMAND_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pm2 ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`.trim()));
      else resolve(stdout);
    });
  });
}

/** Starts `instances` of the app under a new pm2 daemon; resolves once pm2 has started them. */
export async function startPm2Fleet(opts: { url: string; topic: string; version: string; instances: number }): Promise<Pm2Fleet> {
  const home = mkdtempSync(join(tmpdir(), 'crossbus-bench-pm2-'));
  const pids = new Set<number>();
  const daemonPid = (): number | undefined => {
    try {
      return Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const killLeftovers = (): void => {
    for (const pid of [daemonPid(), ...pids])
      if (pid !== undefined && alive(pid))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
  };
  process.on('exit', killLeftovers);

  const config = join(home, 'deploy-bench.json');
  writeFileSync(
    config,
    JSON.stringify({
      apps: [
        {
          name: DEPLOY_APP_NAME,
          script: DEPLOY_APP_ENTRY,
          cwd: DEPLOY_APP_DIR,
          interpreter: process.execPath,
          exec_mode: 'fork',
          instances: opts.instances,
          env: { CROSSBUS_URL: opts.url, BENCH_TOPIC: opts.topic, BENCH_VERSION: opts.version },
        },
      ],
    }),
  );
  let stopping: Promise<void> | undefined;
  const fleet: Pm2Fleet = {
    track: (pid) => void pids.add(pid),
    stop() {
      stopping ??= (async () => {
        try {
          await pm2(home, ['kill']);
        } catch {
          /* the leftovers are killed below */
        }
        killLeftovers();
        process.off('exit', killLeftovers);
        rmSync(home, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  try {
    await pm2(home, ['start', config]);
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  return fleet;
}
