/**
 * Child-process helpers for the benchmarks: brokers/hubs run in their own processes so that the
 * bench process (which hosts the clients) does not share an event loop with them.
 *
 * Every child is tracked and SIGKILLed when the bench process exits, whatever the reason.
 * Child stdout/stderr are piped and kept in a small ring buffer; they are only shown (as part of
 * an error message) when something fails, never forwarded to our stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../test/helpers/ports.js';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const DEFAULT_WAIT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const LOG_LIMIT = 16 * 1024;

export interface RunningServer {
  /** Human readable name, e.g. "nats-server". */
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  /** Last few KiB of the child's stdout+stderr, for error messages. */
  logs(): string;
  /** SIGTERM, wait for exit, SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Child tracking

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllChildrenSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllChildrenSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Synchronously SIGKILLs every child still running (safe to call from an 'exit' handler). */
export function killAllChildrenSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function describeExit(child: ChildProcess): string {
  return child.signalCode !== null ? `signal ${child.signalCode}` : `code ${String(child.exitCode)}`;
}

interface Spawned {
  child: ChildProcess;
  logs(): string;
  /** Calls fn with every chunk of text written by the child on stdout or stderr. */
  onOutput(fn: (text: string) => void): () => void;
  exited: Promise<void>;
}

function spawnTracked(command: string, args: string[], env?: NodeJS.ProcessEnv): Spawned {
  installExitHook();
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let log = '';
  const listeners = new Set<(text: string) => void>();
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    log += text;
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
    for (const l of listeners) l(text);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      children.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      log += `\n[spawn error] ${err.message}\n`;
      children.delete(child);
      resolve();
    });
  });
  return {
    child,
    logs: () => log,
    onOutput(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    exited,
  };
}

function makeStop(s: Spawned): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const { child } = s;
      if (isRunning(child) && child.pid !== undefined) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (isRunning(child)) child.kill('SIGKILL');
            resolve();
          }, STOP_GRACE_MS);
        });
        await Promise.race([s.exited, killed]);
        clearTimeout(timer);
        await s.exited;
      }
      // Stop reading: nothing from the child may reach us after this point.
      s.child.stdout?.removeAllListeners('data');
      s.child.stderr?.removeAllListeners('data');
      s.child.stdout?.destroy();
      s.child.stderr?.destroy();
    })();
    return stopping;
  };
}

function failure(name: string, what: string, s: Spawned): Error {
  const tail = s.logs().trim();
  return new Error(`${name}: ${what}${tail ? `\n--- ${name} output ---\n${tail}\n--- end ---` : ''}`);
}

/** Resolves with the first regex match in the child's output; rejects on exit or timeout. */
function waitForOutput(name: string, s: Spawned, pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let timer: NodeJS.Timeout | undefined;
    let off: () => void = () => {};
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      off();
      s.child.off('exit', onExit);
      fn();
    };
    const check = (): boolean => {
      const m = buffered.match(pattern);
      if (m) {
        done(() => resolve(m));
        return true;
      }
      return false;
    };
    const onExit = (): void => {
      done(() => reject(failure(name, `exited (${describeExit(s.child)}) before it was ready`, s)));
    };
    buffered = s.logs();
    if (check()) return;
    if (!isRunning(s.child)) return onExit();
    off = s.onOutput((text) => {
      buffered += text;
      if (buffered.length > LOG_LIMIT * 2) buffered = buffered.slice(-LOG_LIMIT);
      check();
    });
    s.child.once('exit', onExit);
    timer = setTimeout(() => {
      done(() => reject(failure(name, `not ready after ${timeoutMs} ms (waiting for ${String(pattern)})`, s)));
    }, timeoutMs);
  });
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

async function waitForPort(name: string, s: Spawned, host: string, port: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(s.child)) throw failure(name, `exited (${describeExit(s.child)}) before it was ready`, s);
    if (await tryConnect(host, port)) return;
    if (Date.now() > deadline) throw failure(name, `${host}:${port} not accepting connections after ${timeoutMs} ms`, s);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function started(name: string, s: Spawned, url: string, stop: () => Promise<void>): RunningServer {
  return { name, url, pid: s.child.pid, logs: s.logs, stop };
}

// ---------------------------------------------------------------------------------------------
// Public helpers

export { freePort };

/** Starts `nats-server -a 127.0.0.1 -p <free port> ...args` and waits until it accepts TCP connections. */
export async function startNatsServer(opts: { bin?: string; args?: string[] } = {}): Promise<RunningServer> {
  const bin = opts.bin ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const port = await freePort();
  const s = spawnTracked(bin, ['-a', '127.0.0.1', '-p', String(port), ...(opts.args ?? [])]);
  const stop = makeStop(s);
  try {
    await waitForPort('nats-server', s, '127.0.0.1', port);
  } catch (err) {
    await stop();
    throw err;
  }
  return started('nats-server', s, `nats://127.0.0.1:${port}`, stop);
}

/**
 * Starts `nats-server -js -sd <storeDir> -a 127.0.0.1 -p <free port>` (JetStream enabled, every other
 * setting at its default) and waits until it reports JetStream ready and accepts TCP connections.
 */
export async function startJetStreamServer(opts: { storeDir: string; bin?: string }): Promise<RunningServer> {
  const bin = opts.bin ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const port = await freePort();
  const s = spawnTracked(bin, ['-js', '-sd', opts.storeDir, '-a', '127.0.0.1', '-p', String(port)]);
  const stop = makeStop(s);
  try {
    // A binary that cannot be spawned emits 'error' rather than 'exit': fail at once, not at the timeout.
    const gone = s.exited.then(() => {
      throw failure('nats-server -js', `did not start (${bin})`, s);
    });
    gone.catch(() => {}); // also rejects at a normal stop later on: not an error then
    await Promise.race([waitForOutput('nats-server -js', s, /Server is ready/), gone]);
    await waitForPort('nats-server -js', s, '127.0.0.1', port);
  } catch (err) {
    await stop();
    throw err;
  }
  return started('nats-server -js', s, `nats://127.0.0.1:${port}`, stop);
}

/**
 * Starts the aedes MQTT broker (bench/peers/aedes-broker.ts) in its own node process and waits
 * for its ready line. Port 0 (default) lets the broker pick a free port and report it.
 */
export async function startAedes(opts: { port?: number } = {}): Promise<RunningServer> {
  const script = fileURLToPath(new URL('../peers/aedes-broker.ts', import.meta.url));
  const s = spawnTracked(process.execPath, ['--import', 'tsx', script, String(opts.port ?? 0)]);
  const stop = makeStop(s);
  let url: string;
  try {
    const m = await waitForOutput('aedes', s, /aedes ready (mqtt:\/\/127\.0\.0\.1:\d+)/);
    url = m[1] ?? '';
  } catch (err) {
    await stop();
    throw err;
  }
  return started('aedes', s, url, stop);
}

/**
 * Starts `node dist/cli/main.js hub --host 127.0.0.1 --port 0` (repo root as cwd) and waits until
 * it prints its ws:// URL (on stdout or stderr).
 */
/**
 * A crossbus hub process. Its state goes to a fresh temp directory unless `extraArgs` name a
 * `--data`, so a benchmark never writes into the repository.
 */
export async function startCrossbusHub(opts: { extraArgs?: string[]; urlPattern?: RegExp } = {}): Promise<RunningServer> {
  const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  const extra = opts.extraArgs ?? [];
  const data = extra.includes('--data') ? [] : ['--data', mkdtempSync(join(tmpdir(), 'crossbus-bench-'))];
  const s = spawnTracked(process.execPath, [cli, 'hub', '--host', '127.0.0.1', '--port', '0', ...data, ...extra]);
  const stop = makeStop(s);
  let url: string;
  try {
    // The URL to use: the WebSocket's unless asked for another listener's (e.g. tcp://).
    const m = await waitForOutput('crossbus hub', s, opts.urlPattern ?? /ws:\/\/[^\s'"`,)]+/);
    url = m[0];
  } catch (err) {
    await stop();
    throw err;
  }
  return started('crossbus hub', s, url, stop);
}

/**
 * A crossbus hub whose `/metrics` a scraper reads every `intervalMs` for as long as it runs (a
 * Prometheus scraping at 1 s, fifteen times its default rate): what observability costs the hub.
 */
export async function startScrapedCrossbusHub(intervalMs = 1_000, extraArgs: string[] = ['--insecure']): Promise<RunningServer> {
  const hub = await startCrossbusHub({ extraArgs });
  const metricsUrl = `${hub.url.replace(/^ws:/, 'http:')}/metrics`;
  let scrapes = 0;
  const timer = setInterval(() => {
    fetch(metricsUrl)
      .then((r) => r.text())
      .then(
        () => void scrapes++,
        () => {},
      );
  }, intervalMs);
  return {
    ...hub,
    name: 'crossbus hub (scraped)',
    logs: () => `${hub.logs()}\n(${scrapes} scrapes)`,
    stop: async () => {
      clearInterval(timer);
      await hub.stop();
    },
  };
}

/** Rejects with a clear error if `p` does not settle within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Formats rows as a space-aligned text table (first row = header). Numeric-looking cells are right-aligned. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const numeric = /^[-+]?[\d,.]+(?:[a-z%/]*)$/i;
  const lines = rows.map((row, r) =>
    row
      .map((cell, i) => {
        const w = widths[i] ?? 0;
        return r > 0 && numeric.test(cell) ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd(),
  );
  const header = lines[0] ?? '';
  return [header, '-'.repeat(header.length), ...lines.slice(1)].join('\n');
}

/** Writes a progress/diagnostic line to stderr (stdout is reserved for the table + JSON line). */
export function note(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
