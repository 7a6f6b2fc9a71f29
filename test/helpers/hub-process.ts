/**
 * Helpers for integration tests against a REAL hub process (`node dist/cli/main.js hub`), plus
 * one-shot CLI runs. Every child process spawned here is tracked and killed when the test file
 * ends (an `after()` hook registered on import) or when the test process exits, even if a test
 * failed half-way.
 *
 * Needs a built CLI: run `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfigDocument } from './security.js';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { sleep } from './wait.js';

/** Repository root, resolved from this file's location (test/helpers/ -> ../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const READY_RE = /crossbus hub listening on (ws:\/\/127\.0\.0\.1:(\d+))/;
const DEFAULT_READY_TIMEOUT_MS = 10_000;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface HubProcess {
  /** ws://127.0.0.1:PORT as printed by the hub. */
  readonly url: string;
  /** The hub's --data directory (a fresh temporary one unless the args named one). */
  readonly dataDir: string;
  /** Credentials of app `test` (may do anything) for a secure hub; undefined with --insecure. */
  readonly credentials: { name: string; secret: string } | undefined;
  /** The config document written for it (undefined with --insecure or an explicit --config). */
  readonly config: ReturnType<typeof testConfigDocument> | undefined;
  readonly port: number;
  readonly proc: ChildProcess;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** True until the process has exited. */
  alive(): boolean;
  /** Resolves when the process exits (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Sends `signal` and waits for the exit (SIGKILL after 10 s if it does not go). */
  stop(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** SIGKILL, no waiting. */
  kill(): void;
}

// ------------------------------------------------------------------------- tracking

const live = new Set<ChildProcess>();

function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
}

/** Kills every process spawned by these helpers that is still running. */
export async function killAllProcesses(): Promise<void> {
  const procs = [...live];
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) {
            resolve();
            return;
          }
          p.once('exit', () => resolve());
          try {
            p.kill('SIGKILL');
          } catch {
            resolve();
          }
        }),
    ),
  );
}

// Last resort: a synchronous kill when the test process itself goes away.
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

// Registered on the importing test file's root: runs after all its tests, pass or fail.
after(killAllProcesses);

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} does not exist: run \`npm run build\` before the integration tests`);
}

function exitPromise(proc: ChildProcess, out: () => string, err: () => string): Promise<ExitInfo> {
  return new Promise<ExitInfo>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve({ code: proc.exitCode, signal: proc.signalCode, stdout: out(), stderr: err() });
      return;
    }
    // 'close' (not 'exit') so that stdout/stderr are complete.
    proc.once('close', (code, signal) => resolve({ code, signal, stdout: out(), stderr: err() }));
  });
}

// ------------------------------------------------------------------------- hub process

export class HubStartError extends Error {
  constructor(
    message: string,
    readonly exit: ExitInfo | undefined,
  ) {
    super(message);
  }
}

/**
 * Spawns `node dist/cli/main.js hub --host 127.0.0.1 --port 0 ...args` and resolves once it
 * printed `crossbus hub listening on ws://127.0.0.1:PORT`. Rejects (and kills the process) when
 * it exits first or is not ready within `readyTimeoutMs`.
 */
export async function startHubProcess(
  args: string[] = [],
  options: { readyTimeoutMs?: number; config?: ReturnType<typeof testConfigDocument> } = {},
): Promise<HubProcess> {
  // A later --port in args wins over the default (parseArgs keeps the last value).
  return spawnHub(['--host', '127.0.0.1', '--port', '0', ...args], options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, options.config);
}

/** Credentials of the secure test hubs started here, by URL (openBus uses them). */
const credentialsByUrl = new Map<string, { name: string; secret: string }>();
/** The data directory of the last hub on each port, so a restart on the port keeps its config. */
const dataDirByPort = new Map<number, string>();

export function credentialsFor(url: string): { name: string; secret: string } | undefined {
  return credentialsByUrl.get(url);
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.lastIndexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Secure by default, like the real CLI: a fresh data directory with a config where app `test` may
 * do anything (high rate limit), unless the args say --insecure, --data or --config.
 */
async function spawnHub(
  givenArgs: string[],
  readyTimeoutMs: number,
  configDoc?: ReturnType<typeof testConfigDocument>,
): Promise<HubProcess> {
  const insecure = givenArgs.includes('--insecure');
  const port = Number(argValue(givenArgs, '--port') ?? 0);
  let dataDir = argValue(givenArgs, '--data') ?? (port !== 0 ? dataDirByPort.get(port) : undefined);
  let config: ReturnType<typeof testConfigDocument> | undefined;
  const hubArgs = [...givenArgs];
  if (dataDir === undefined) {
    dataDir = mkdtempSync(join(tmpdir(), 'crossbus-hub-'));
    if (!insecure && argValue(givenArgs, '--config') === undefined) {
      config = configDoc ?? testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
      writeFileSync(join(dataDir, 'crossbus.config.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
    }
  }
  if (argValue(givenArgs, '--data') === undefined) hubArgs.push('--data', dataDir);
  const { proc, stdout: out, stderr: err, exited } = spawnCli(['hub', ...hubArgs]);
  let done = false;
  exited.then(
    () => (done = true),
    () => {},
  );

  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const onData = (): void => {
      const m = READY_RE.exec(out());
      if (m !== null) {
        cleanup();
        resolve({ url: m[1] as string, port: Number(m[2]) });
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      proc.kill('SIGKILL');
      reject(new HubStartError(`hub did not report ready within ${readyTimeoutMs} ms\nstdout: ${out()}\nstderr: ${err()}`, undefined));
    }, readyTimeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
    };
    proc.stdout?.on('data', onData);
    exited.then(
      (info) => {
        cleanup();
        reject(
          new HubStartError(
            `hub exited before it was ready (code ${info.code}, signal ${info.signal})\nstdout: ${info.stdout}\nstderr: ${info.stderr}`,
            info,
          ),
        );
      },
      () => {},
    );
    onData();
  });

  dataDirByPort.set(ready.port, dataDir);
  const previous = [...credentialsByUrl.entries()].find(([u]) => u === ready.url)?.[1];
  const credentials = insecure ? undefined : config !== undefined ? { name: 'test', secret: config.apps.test.secret } : previous;
  if (credentials !== undefined) credentialsByUrl.set(ready.url, credentials);
  else credentialsByUrl.delete(ready.url);
  const hub: HubProcess = {
    url: ready.url,
    dataDir,
    credentials,
    config,
    port: ready.port,
    proc,
    stdout: out,
    stderr: err,
    alive: () => !done && proc.exitCode === null && proc.signalCode === null,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (hub.alive()) proc.kill(signal);
      const guard = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(guard);
      }
    },
    kill: () => {
      if (hub.alive()) proc.kill('SIGKILL');
    },
  };
  return hub;
}

/**
 * Starts a hub on a given port (after another hub on it died), retrying for up to `retryForMs`
 * while the port is still reported in use.
 */
export async function restartOnPort(port: number, args: string[] = [], retryForMs = 5_000): Promise<HubProcess> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      return await spawnHub(['--host', '127.0.0.1', '--port', String(port), ...args], DEFAULT_READY_TIMEOUT_MS);
    } catch (err) {
      const text = err instanceof HubStartError ? `${err.exit?.stderr ?? ''}` : '';
      const inUse = /EADDRINUSE|already in use|CB_ERR_ADDRESS_IN_USE/.test(text);
      if (!inUse || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

// ------------------------------------------------------------------------- CLI runs

export interface CliProcess {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<ExitInfo>;
}

/** How a CLI run is started: `env` is added to (or, with undefined values, removed from) the test's environment. */
export interface CliRunOptions {
  env?: Record<string, string | undefined>;
}

/** Spawns `node dist/cli/main.js ...args` in the background (tracked, killed at the end). */
export function spawnCli(args: string[], options: CliRunOptions = {}): CliProcess {
  assertBuilt();
  const env = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const proc = spawn(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  track(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (d: string) => (stdout += d));
  proc.stderr?.on('data', (d: string) => (stderr += d));
  return {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: exitPromise(
      proc,
      () => stdout,
      () => stderr,
    ),
  };
}

/** Runs the CLI to completion; SIGKILLs it and rejects after `timeoutMs`. */
export async function runCli(args: string[], timeoutMs = 10_000, options: CliRunOptions = {}): Promise<ExitInfo> {
  const cli = spawnCli(args, options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cli.proc.kill('SIGKILL');
      reject(new Error(`crossbus ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([cli.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------- small utilities
