/**
 * The cluster suite's set-up: a three-node NATS cluster with JetStream (test/helpers/nats-cluster.ts)
 * and one secure crossbus hub process per node, hub i joined to node i (`crossbus hub --cluster
 * <node i> --cluster-user hub<i> --cluster-password-file <file>`), as an operator would run them: a config with fresh random secrets (a role granting bench.>, a rate limit
 * too high to throttle), clients authenticated and encrypted by default. Each hub has its own data
 * directory under `dir`; the NATS passwords go by file, never the command line.
 *
 * Each hub is given only its own node: nats.js shuffles a list of servers before it connects (its
 * `noRandomize` is off), so with the whole list two hubs often share a node and a message crosses
 * no route at all. The hubs still learn the other nodes from NATS (for a reconnect).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type NatsCluster, type NatsUser, startNatsCluster } from '../../test/helpers/nats-cluster.js';
import { note, startCrossbusHub, type RunningServer } from './procs.js';

export interface AppCredentials {
  readonly name: string;
  readonly secret: string;
}

export interface BenchCluster {
  readonly nats: NatsCluster;
  /** Hub i, joined to NATS node i first. */
  readonly hubs: readonly RunningServer[];
  /** The apps the hubs' config knows: publisher, subscriber, durable publisher. */
  readonly apps: { readonly pub: AppCredentials; readonly sub: AppCredentials; readonly durable: AppCredentials };
  /** The NATS user of the plain nats.js clients (the peer rows). */
  readonly direct: NatsUser;
  /** Which node each hub's NATS connection is on (index of `nats.nodes`; -1: none found). */
  placement(): Promise<number[]>;
  stop(): Promise<void>;
}

const secret = (): string => randomBytes(32).toString('base64');

/** The hubs' config: three apps with role `bench` (publish and subscribe bench.>, streams on it). */
function configDocument(apps: BenchCluster['apps']): unknown {
  return {
    apps: Object.fromEntries(Object.values(apps).map((a) => [a.name, { secret: a.secret, roles: ['bench'] }])),
    roles: { bench: { publish: ['bench.>'], subscribe: ['bench.>'], request: [] } },
    origins: [],
    limits: { rate: { perSecond: 10_000_000, burst: 10_000_000 }, topicRates: [] },
  };
}

/**
 * Starts the NATS cluster (`nodes` servers, JetStream on) and `hubs` hubs on it. `hubArgs(i)`: extra
 * flags for hub i (e.g. its stream storage). Everything is stopped again if any part fails.
 */
export async function startBenchCluster(opts: {
  dir: string;
  nodes?: number;
  hubs?: number;
  hubArgs?: (i: number) => string[];
}): Promise<BenchCluster> {
  const nodeCount = opts.nodes ?? 3;
  const hubCount = opts.hubs ?? nodeCount;
  const apps = {
    pub: { name: 'bench-pub', secret: secret() },
    sub: { name: 'bench-sub', secret: secret() },
    durable: { name: 'bench-durable', secret: secret() },
  };
  note(`cluster: starting a ${nodeCount}-node NATS cluster (JetStream on)`);
  const nats = await startNatsCluster({ nodes: nodeCount, hubUsers: hubCount });
  const hubs: RunningServer[] = [];
  try {
    note(`cluster: starting ${hubCount} secure crossbus hubs, hub i on NATS node i`);
    const started = await Promise.allSettled(
      Array.from({ length: hubCount }, async (_, i) => {
        const hubDir = path.join(opts.dir, `hub${i + 1}`);
        await mkdir(hubDir, { recursive: true, mode: 0o700 });
        const configFile = path.join(hubDir, 'crossbus.config.json');
        await writeFile(configFile, `${JSON.stringify(configDocument(apps), null, 2)}\n`, { mode: 0o600 });
        const user = nats.users.hubs[i] as NatsUser;
        const passwordFile = path.join(opts.dir, `${user.user}.password`);
        await writeFile(passwordFile, user.password, { mode: 0o600 });
        const server = nats.urls[i % nodeCount] as string;
        const hub = await startCrossbusHub({
          extraArgs: [
            '--data',
            hubDir,
            '--config',
            configFile,
            '--cluster',
            server,
            '--cluster-user',
            user.user,
            '--cluster-password-file',
            passwordFile,
            ...(opts.hubArgs?.(i) ?? []),
          ],
        });
        hubs[i] = hub;
        return hub;
      }),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } catch (err) {
    await Promise.all(hubs.map((h) => h?.stop()));
    await nats.stop();
    throw err;
  }
  return {
    nats,
    hubs,
    apps,
    direct: nats.users.direct,
    placement: () => placementOf(nats, hubCount),
    async stop() {
      await Promise.all(hubs.map((h) => h.stop()));
      await nats.stop();
    },
  };
}

/**
 * The node each hub is connected to, read from the nodes' `/connz`: hub connections are named
 * `crossbus-hub-<id>`, and hub i was given node i only, so a node's one hub connection is its hub's.
 */
async function placementOf(nats: NatsCluster, hubCount: number): Promise<number[]> {
  const onNode = await Promise.all(
    nats.nodes.map(async (_, n) => {
      const connz = (await nats.monitor(n, 'connz')) as { connections?: Array<{ name?: string }> };
      return (connz.connections ?? []).filter((c) => c.name?.startsWith('crossbus-hub-') === true).length;
    }),
  );
  return Array.from({ length: hubCount }, (_, i) => (onNode[i % nats.nodes.length] === 1 ? i % nats.nodes.length : -1));
}
