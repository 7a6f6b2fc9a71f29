/**
 * A real NATS cluster on loopback for tests and benchmarks: N nats-server processes (Debian's
 * `nats-server`, 2.9+), routed to each other, JetStream on with file storage in a temporary
 * folder, and users with passwords (the hubs' own credentials). Every port is free when picked;
 * each node can be killed (SIGKILL) and started again on the same ports and store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { freePort } from './ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsUser {
  user: string;
  password: string;
}

export interface NatsNode {
  readonly name: string;
  /** `nats://127.0.0.1:<port>`, without credentials. */
  readonly url: string;
  readonly port: number;
  /** The monitoring port (`/varz`, `/connz`, `/subsz`, `/jsz`). */
  readonly httpPort: number;
  running(): boolean;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (lame duck is not waited for), then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Starts the node again on the same ports and store, and waits until it serves. */
  restart(): Promise<void>;
  /** Its last output, for failures. */
  logs(): string;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Every node's URL (the seed list a client is given). */
  readonly urls: readonly string[];
  /** The users the servers accept: `hubs[i]` for hub i, `direct` for benchmarks' plain clients. */
  readonly users: { readonly hubs: readonly NatsUser[]; readonly direct: NatsUser };
  /** The monitoring JSON of one node (`varz`, `connz?subs=1`, `jsz`, …). */
  monitor(node: number, path: string): Promise<unknown>;
  /** Waits until JetStream has a meta leader (a cluster that can create streams). */
  jetStreamReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** @default 3 */
  nodes?: number;
  /** Hub users to create. @default 3 */
  hubUsers?: number;
  /** JetStream on. @default true */
  jetStream?: boolean;
  /** Extra lines inside each node's `jetstream { }` block. */
  jetStreamExtra?: string;
  /** The largest message the servers take. @default '8MB' */
  maxPayload?: string;
  /** NATS permissions of the hub users (`{ publish: { deny: [...] }, … }`), the same for each. @default none */
  hubPermissions?: unknown;
  /** NATS permissions of hub user i, when they differ from `hubPermissions`. @default none */
  hubPermissionsOf?: (i: number) => unknown;
  /** Public nkeys (`U…`) the servers accept as users too. @default none */
  nkeyUsers?: readonly string[];
}

const LOG_LIMIT = 16 * 1024;
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function randomPassword(): string {
  return `p${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** Starts a cluster and waits until every node serves clients (and, with JetStream, a meta leader is elected). */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const count = options.nodes ?? 3;
  const jetStream = options.jetStream ?? true;
  const root = mkdtempSync(join(tmpdir(), 'cb-nats-'));
  const users = {
    hubs: Array.from({ length: options.hubUsers ?? 3 }, (_, i) => ({ user: `hub${i + 1}`, password: randomPassword() })),
    direct: { user: 'direct', password: randomPassword() },
  };
  const ports = await Promise.all(
    Array.from({ length: count }, async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })),
  );
  const nodes: NatsNode[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i + 1}`;
    const p = ports[i]!;
    const routes = ports.filter((_, j) => j !== i).map((q) => `nats://127.0.0.1:${q.route}`);
    const store = join(root, name);
    mkdirSync(store, { recursive: true });
    const perms = (i: number): string => {
      const p = options.hubPermissionsOf?.(i) ?? options.hubPermissions;
      return p === undefined ? '' : `, permissions: ${JSON.stringify(p)}`;
    };
    const allUsers = [
      ...users.hubs.map((u, j) => `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}${perms(j)} }`),
      `    { user: ${JSON.stringify(users.direct.user)}, password: ${JSON.stringify(users.direct.password)} }`,
      ...(options.nkeyUsers ?? []).map((k) => `    { nkey: ${JSON.stringify(k)} }`),
    ];
    const conf = [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${p.client}`,
      `http: 127.0.0.1:${p.http}`,
      `max_payload: ${options.maxPayload ?? '8MB'}`,
      jetStream ? `jetstream { store_dir: ${JSON.stringify(store)}\n${options.jetStreamExtra ?? ''} }` : '',
      count > 1 ? `cluster { name: cb, listen: 127.0.0.1:${p.route}, routes: [${routes.join(', ')}] }` : '',
      `authorization { users: [\n${allUsers.join(',\n')}\n] }`,
    ].join('\n');
    const confFile = join(root, `${name}.conf`);
    writeFileSync(confFile, conf, { mode: 0o600 });
    nodes.push(natsNode(name, confFile, p.client, p.http));
  }
  try {
    await Promise.all(nodes.map((n) => n.restart()));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw err;
  }
  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    users,
    monitor: (node, path) => fetchJson(`http://127.0.0.1:${nodes[node]!.httpPort}/${path}`),
    async jetStreamReady(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ok = await Promise.all(
          nodes
            .filter((n) => n.running())
            .map(async (n) => {
              try {
                const res = await fetch(`http://127.0.0.1:${n.httpPort}/healthz?js-enabled-only=true`);
                const jsz = (await fetchJson(`http://127.0.0.1:${n.httpPort}/jsz`)) as { meta_cluster?: { leader?: string } };
                return res.ok && (count === 1 || (jsz.meta_cluster?.leader ?? '') !== '');
              } catch {
                return false;
              }
            }),
        );
        if (ok.length > 0 && ok.every(Boolean)) return;
        if (Date.now() > deadline) throw new Error(`JetStream not ready after ${timeoutMs} ms\n${nodes.map((n) => n.logs()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (jetStream) await cluster.jetStreamReady();
  return cluster;
}

function natsNode(name: string, confFile: string, port: number, httpPort: number): NatsNode {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  const waitServing = async (): Promise<void> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (!running()) throw new Error(`nats-server ${name} exited before it served\n${log}`);
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
        if (res.ok || res.status === 503) {
          const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port });
            const done = (ok: boolean): void => {
              s.destroy();
              resolve(ok);
            };
            s.once('connect', () => done(true));
            s.once('error', () => done(false));
          });
          if (ok) return;
        }
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`nats-server ${name} not serving after 15 s\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (): Promise<void> => {
    if (running()) child?.kill('SIGKILL');
    await exited;
  };
  return {
    name,
    url: `nats://127.0.0.1:${port}`,
    port,
    httpPort,
    running,
    kill,
    async stop() {
      if (!running()) return;
      child?.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      await kill();
      const c = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      children.add(c);
      const onData = (chunk: Buffer): void => {
        log += chunk.toString('utf8');
        if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
      };
      c.stdout?.on('data', onData);
      c.stderr?.on('data', onData);
      exited = new Promise((resolve) => {
        c.once('exit', () => {
          children.delete(c);
          resolve();
        });
        c.once('error', (err) => {
          log += `\n[spawn error] ${err.message}`;
          children.delete(c);
          resolve();
        });
      });
      await waitServing();
    },
    logs: () => log,
  };
}

/**
 * `crossbus hub` args that join hub `i` to `cluster` through NATS node `i` (modulo the nodes) only (the NATS client
 * shuffles a list, and a test must know which node a hub is on; the others it learns from the
 * server), as NATS user `hubs[i]`, its password in a file under `dir` (never on the command line).
 */
export function hubClusterArgs(cluster: NatsCluster, i: number, dir: string): string[] {
  const user = cluster.users.hubs[i]!;
  const file = join(dir, `${user.user}.password`);
  writeFileSync(file, user.password, { mode: 0o600 });
  return ['--cluster', cluster.urls[i % cluster.urls.length]!, '--cluster-user', user.user, '--cluster-password-file', file];
}
