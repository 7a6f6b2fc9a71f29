/**
 * Connections: how fast secure connections are established, and how a hub holding many of them
 * behaves.
 *
 *   crossbus   authenticated, encrypted connections (secret, P-256, AES-256-GCM) opened 50 at
 *              once, round after round, all held until the end: connections per second
 *   nats-tls   the same against nats-server with TLS (certificates made now with openssl) and
 *              the `nats` client
 *   reconnect  CONNECT_BENCH_CLIENTS (default 10,000) connections from three client processes;
 *              then broadcasts to all of them (the time until the last receives each, p99);
 *              then the hub is killed and restarted on its port, and the time until every client
 *              is back (reconnections per second)
 *
 * Hubs and servers run in their own processes; the clients of the first two parts live in this one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { connect as natsConnect, type NatsConnection } from 'nats';
import type { BenchOutput } from './lib/output.js';
import { REPO_ROOT, formatTable, note, startCrossbusHub, startNatsServer, withTimeout, type RunningServer } from './lib/procs.js';
import { errMsg, fmtInt, loadCrossbus, ratio, type SuiteExtras } from './pubsub.js';

export const PARTS = ['crossbus', 'nats-tls', 'reconnect'] as const;

export interface ConnectSuiteOptions {
  only?: readonly string[];
  /** Multiplies the connection counts. @default 1 */
  scale?: number;
}

/** Clients that connect at once. */
const CONCURRENCY = 50;
/** Rounds of CONCURRENCY connections, timed together. */
const ROUNDS = 20;
const WARMUP_ROUNDS = 2;
const CLIENT_PROCESSES = 3;
const BROADCASTS = 20;
const PHASE_TIMEOUT_MS = 90_000;

interface Credentials {
  name: string;
  secret: string;
}

function writeHubConfig(dir: string): { file: string; creds: Credentials } {
  const creds = { name: 'bench-connect', secret: randomBytes(32).toString('base64') };
  const doc = {
    apps: { [creds.name]: { secret: creds.secret, roles: ['bench'] } },
    roles: { bench: { publish: ['bench.>'], subscribe: ['bench.>'], request: [] } },
    origins: [],
    limits: { rate: { perSecond: 10_000_000, burst: 10_000_000 }, topicRates: [] },
  };
  const file = join(dir, 'crossbus.config.json');
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return { file, creds };
}

/** Opens `rounds` x CONCURRENCY connections, CONCURRENCY at a time; returns the seconds and what to close. */
async function connectRounds<T>(rounds: number, open: () => Promise<T>): Promise<{ seconds: number; held: T[] }> {
  const held: T[] = [];
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) held.push(...(await Promise.all(Array.from({ length: CONCURRENCY }, open))));
  return { seconds: (performance.now() - t0) / 1000, held };
}

async function crossbusRate(rounds: number): Promise<number> {
  const { connect } = await loadCrossbus();
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-bench-connect-'));
  const { file, creds } = writeHubConfig(dir);
  const hub = await startCrossbusHub({ extraArgs: ['--data', dir, '--config', file, '--max-connections', '100000'] });
  const open = () => connect(hub.url, { ...creds, reconnect: false, timeoutMs: 20_000 });
  try {
    const warm = await connectRounds(WARMUP_ROUNDS, open);
    await Promise.all(warm.held.map((b) => b.close()));
    const { seconds, held } = await withTimeout(connectRounds(rounds, open), PHASE_TIMEOUT_MS, 'crossbus connects');
    await Promise.all(held.map((b) => b.close()));
    return (rounds * CONCURRENCY) / seconds;
  } finally {
    await hub.stop();
  }
}

/** A CA and a certificate for 127.0.0.1 signed by it (P-256), made with openssl. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=crossbus-bench-ca']);
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  ]);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

async function natsTlsRate(rounds: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-bench-nats-tls-'));
  const { ca, cert, key } = makeCertificates(dir);
  const server = await startNatsServer({ args: ['--tls', '--tlscert', cert, '--tlskey', key] });
  const open = () => natsConnect({ servers: server.url, tls: { caFile: ca }, reconnect: false, timeout: 20_000 });
  try {
    const warm = await connectRounds(WARMUP_ROUNDS, open);
    await Promise.all(warm.held.map((c: NatsConnection) => c.close()));
    const { seconds, held } = await withTimeout(connectRounds(rounds, open), PHASE_TIMEOUT_MS, 'nats-tls connects');
    await Promise.all(held.map((c) => c.close()));
    return (rounds * CONCURRENCY) / seconds;
  } finally {
    await server.stop();
  }
}

/** One client process of test/fixtures/many-clients.ts: its JSON lines, in order. */
interface ClientProcess {
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  waiters: Array<() => void>;
}

function spawnClients(url: string, count: number, creds: Credentials, topic: string): ClientProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/many-clients.ts', url, String(count)], {
    cwd: REPO_ROOT,
    // The secret goes by the environment, never the command line.
    env: { ...process.env, CROSSBUS_NAME: creds.name, CROSSBUS_SECRET: creds.secret, BROADCAST_TOPIC: topic },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const c: ClientProcess = { proc, lines: [], waiters: [] };
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    c.lines.push(JSON.parse(l) as Record<string, unknown>);
    for (const w of c.waiters.splice(0)) w();
  });
  proc.on('exit', () => {
    for (const w of c.waiters.splice(0)) w();
  });
  return c;
}

/** The next line with `key` from every process (a process that fails rejects). */
async function fromEach(clients: ClientProcess[], key: string, timeoutMs: number): Promise<Array<Record<string, unknown>>> {
  const one = async (c: ClientProcess): Promise<Record<string, unknown>> => {
    for (;;) {
      const i = c.lines.findIndex((l) => key in l || 'error' in l);
      if (i >= 0) {
        const [line] = c.lines.splice(i, 1) as [Record<string, unknown>];
        if ('error' in line) throw new Error(`client process: ${String(line.error)}`);
        return line;
      }
      if (c.proc.exitCode !== null) throw new Error(`client process exited (${c.proc.exitCode}) before reporting ${key}`);
      await new Promise<void>((r) => c.waiters.push(r));
    }
  };
  return withTimeout(Promise.all(clients.map(one)), timeoutMs, `clients reporting ${key}`);
}

interface HoldResult {
  clients: number;
  connectSeconds: number;
  broadcastP99Ms: number;
  broadcastP50Ms: number;
  reconnectSeconds: number;
}

async function holdAndReconnect(total: number): Promise<HoldResult> {
  const { connect } = await loadCrossbus();
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-bench-hold-'));
  const { file, creds } = writeHubConfig(dir);
  const args = ['--data', dir, '--config', file, '--max-connections', String(total + 100)];
  let hub: RunningServer = await startCrossbusHub({ extraArgs: args });
  const topic = 'bench.broadcast';
  const per = Math.ceil(total / CLIENT_PROCESSES);
  const counts = Array.from({ length: CLIENT_PROCESSES }, (_, i) => Math.min(per, total - i * per)).filter((n) => n > 0);
  const clients = counts.map((n) => spawnClients(hub.url, n, creds, topic));
  try {
    const t0 = performance.now();
    await fromEach(clients, 'connected', PHASE_TIMEOUT_MS);
    const connectSeconds = (performance.now() - t0) / 1000;
    note(`connect: ${fmtInt(total)} held after ${connectSeconds.toFixed(1)} s`);

    const pub = await connect(hub.url, { ...creds, reconnect: false, timeoutMs: 20_000 });
    const times: number[] = [];
    for (let n = 0; n < BROADCASTS; n++) {
      await pub.publish(topic, { n, t: performance.timeOrigin + performance.now() });
      const done = await fromEach(clients, 'broadcast', 20_000);
      times.push(Math.max(...done.map((l) => l.ms as number)));
    }
    await pub.close();
    times.sort((a, b) => a - b);
    const pct = (p: number): number => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] as number;

    const port = new URL(hub.url).port;
    const t1 = performance.now();
    if (hub.pid !== undefined) process.kill(hub.pid, 'SIGKILL');
    await hub.stop();
    hub = await startCrossbusHub({ extraArgs: [...args, '--port', port] });
    await fromEach(clients, 'reconnected', PHASE_TIMEOUT_MS);
    const reconnectSeconds = (performance.now() - t1) / 1000;
    return { clients: total, connectSeconds, broadcastP99Ms: pct(0.99), broadcastP50Ms: pct(0.5), reconnectSeconds };
  } finally {
    for (const c of clients) c.proc.stdin?.end();
    await Promise.all(clients.map((c) => (c.proc.exitCode === null ? new Promise((r) => c.proc.once('exit', r)) : undefined)));
    await hub.stop();
  }
}

export async function runConnectBench(options: ConnectSuiteOptions = {}): Promise<BenchOutput & SuiteExtras> {
  const scale = options.scale ?? 1;
  const parts = new Set(options.only ?? PARTS);
  const rounds = Math.max(2, Math.round(ROUNDS * scale));
  const total = Math.max(CLIENT_PROCESSES, Math.round(Number(process.env.CONNECT_BENCH_CLIENTS ?? 10_000) * scale));
  const results: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['system', 'what', 'count', 'seconds', 'per second']];

  const rate = async (key: 'crossbus' | 'nats-tls', fn: (rounds: number) => Promise<number>, label: string) => {
    if (!parts.has(key)) return;
    try {
      note(`${key}: ${rounds} rounds of ${CONCURRENCY} connections at once`);
      const r = await fn(rounds);
      results[key] = Math.round(r);
      const n = rounds * CONCURRENCY;
      rows.push([key, label, fmtInt(n), (n / r).toFixed(2), fmtInt(r)]);
    } catch (err) {
      failures.push(`${key}: ${errMsg(err)}`);
    }
  };
  await rate('crossbus', crossbusRate, 'secure connect (secret, P-256, AES-GCM)');
  await rate('nats-tls', natsTlsRate, 'TLS connect (P-256 certificate)');

  if (parts.has('reconnect')) {
    try {
      note(`reconnect: ${fmtInt(total)} connections from ${CLIENT_PROCESSES} processes`);
      const r = await holdAndReconnect(total);
      results['connect-held'] = Math.round(r.clients / r.connectSeconds);
      results['broadcast-deliveries-per-s-p99'] = Math.round(r.clients / (r.broadcastP99Ms / 1000));
      results.reconnect = Math.round(r.clients / r.reconnectSeconds);
      rows.push([
        'crossbus',
        `${CLIENT_PROCESSES} processes connect, 50 at once each`,
        fmtInt(r.clients),
        r.connectSeconds.toFixed(2),
        fmtInt(r.clients / r.connectSeconds),
      ]);
      rows.push([
        'crossbus',
        `broadcast to all: p50 ${r.broadcastP50Ms.toFixed(0)} ms, p99 ${r.broadcastP99Ms.toFixed(0)} ms (${BROADCASTS} broadcasts)`,
        fmtInt(r.clients),
        (r.broadcastP99Ms / 1000).toFixed(2),
        fmtInt(r.clients / (r.broadcastP99Ms / 1000)),
      ]);
      rows.push([
        'crossbus',
        'reconnect all after a hub restart (kill to last back)',
        fmtInt(r.clients),
        r.reconnectSeconds.toFixed(2),
        fmtInt(r.clients / r.reconnectSeconds),
      ]);
    } catch (err) {
      failures.push(`reconnect: ${errMsg(err)}`);
    }
  }

  const ratios: Record<string, number> = {};
  const cn = ratio(results.crossbus, results['nats-tls']);
  if (cn !== undefined) ratios['crossbus/nats-tls'] = cn;
  const table = `${formatTable(rows)}\n\ncrossbus/nats-tls: ${cn ?? 'n/a'} (goal >= 1.0)\n`;
  return { suite: 'connect', unit: 'connections/s', table, results, ratios, failures };
}
