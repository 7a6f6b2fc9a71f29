/**
 * Benchmark dispatcher: `npm run bench -- <suite> [--only=a,b] [--quick]`
 *
 *   pubsub   crossbus vs aedes vs nats-server publish/subscribe throughput
 *   rpc      crossbus vs nats-server sequential request/reply
 *   match    topic matching (bench/match.ts)
 *   security crossbus throughput insecure vs integrity (AES-GMAC, HMAC-SHA256) vs encrypted, and handshakes per second
 *   durable  crossbus durable streams vs NATS JetStream: acknowledged publishes and replay
 *   browser  Chromium round trips parent page ↔ cross-site iframe: raw postMessage, raw MessagePort, crossbus, Penpal, Comlink
 *   local    two worker threads: shared memory vs a raw MessagePort vs a Unix socket (round trips, one way)
 *   pool     resource pools: acquire + release per second, crossbus vs generic-pool vs tarn
 *   connect  secure connections per second vs nats-server with TLS; 10,000 held, broadcast to all, reconnect after a restart
 *   sync     state sync: bytes of a one-line edit, JSON deltas vs fast-json-patch and jsondiffpatch,
 *            two authors typing vs Yjs and Automerge, realtime round trips through a hub
 *   kv       KV buckets vs NATS KV on JetStream: puts and gets per second, one update to 1,000 watchers;
 *            layered configuration resolved per second vs convict
 *   cluster  hubs as one bus over a 3-node NATS cluster vs plain NATS clients: cross-node pub/sub,
 *            durable publishes (R3 JetStream on the NATS side)
 *   deploy   4 app instances under a steady request load: requests served per second while they are
 *            replaced by hand (restart) or by the deployment manager (blue-green, rolling); a bad
 *            canary rolled back; a SIGKILLed instance replaced, crossbus Supervisor vs pm2
 *   all      every suite, one after the other
 *
 * stdout carries only each suite's table followed by its JSON line (the JSON line of the last suite
 * is the very last line); progress and diagnostics go to stderr. Exit code 0 only if every
 * selected measurement succeeded.
 */
import { printBench, type BenchOutput } from './lib/output.js';
import { killAllChildrenSync } from './lib/procs.js';

const SUITES = [
  'pubsub',
  'rpc',
  'match',
  'security',
  'durable',
  'browser',
  'local',
  'pool',
  'connect',
  'sync',
  'kv',
  'deploy',
  'cluster',
] as const;
type Suite = (typeof SUITES)[number];

interface CliOptions {
  only: string[] | undefined;
  scale: number;
  paceEvery: number | undefined;
}

function usage(): string {
  return [
    'usage: npm run bench -- <suite> [options]',
    '',
    'suites:',
    '  pubsub   publish/subscribe throughput: crossbus vs aedes (MQTT) vs nats-server',
    '  rpc      sequential request/reply: crossbus vs nats-server',
    '  match    topic matching',
    '  security crossbus 1→1 throughput: --insecure vs integrity (AES-GMAC, HMAC-SHA256) vs encrypted; handshakes per second',
    '  durable  durable publish (up to 1,000 unacknowledged) and replay: crossbus streams (fsync, interval)',
    '           vs nats-server JetStream (file storage, defaults)',
    '  browser  Chromium: sequential round trips between a page and a cross-site iframe: raw postMessage,',
    '           raw MessagePort, crossbus, Penpal, Comlink; one-way messages; the page client size',
    '  local    two worker threads, 64-byte messages: round trips and one-way messages over crossbus shared',
    '           memory (crossbus-shm), a raw MessagePort and a Unix socket; the Bus over shm and over ports',
    '  pool     resource pools: acquire + release per second, one holder and 20 holders on 10 resources:',
    '           crossbus Pool vs generic-pool vs tarn',
    '  connect  secure connections per second, 50 at once: crossbus vs nats-server with TLS; then',
    '           CONNECT_BENCH_CLIENTS (default 10,000) held, a broadcast to all, and their reconnect after a hub restart',
    '  sync     state sync: a one-line edit of a 1 MB project (bytes saved); diff + apply of a 1 MB JSON document',
    '           vs fast-json-patch and jsondiffpatch; two authors typing 10,000 edits vs Yjs and Automerge;',
    '           realtime round trips through a hub',
    '  kv       KV buckets: put and get per second (1,000 keys, ~100 B JSON, up to 256 outstanding) and one',
    '           update to 1,000 watchers: crossbus (durability interval; fsync for information) vs NATS KV;',
    '           a 500-key layered configuration resolved per second: crossbus vs convict (load + validate)',
    '  deploy   4 instances of an app under a steady request load (8 loops): requests served per second over',
    '           a 10 s window while they are replaced by hand (restart) or by the deployment manager (blue-green,',
    '           rolling); a bad canary rolled back (time to detect); a SIGKILLed instance',
    '           replaced until a new pid answers, as restarts per second: crossbus Supervisor vs pm2 (fork mode)',
    '  cluster  3 secure hubs on a 3-node NATS cluster (JetStream on), hub i on node i: 128-byte pub/sub from a',
    '           client of hub 1 to one of hub 2 vs nats.js on node 1 → node 2 (received per second, median of',
    '           interleaved rounds); durable publishes, 1,000 in flight, through hub 1 into its default stream',
    '           storage (JetStream, R3 file; checked each round) vs js.publish() into an R3 file stream',
    '  all      run every suite',
    '',
    'options:',
    '  --only=a,b    only these systems (pubsub: crossbus,crossbus-tcp,aedes,nats-server; rpc: crossbus,nats-server;',
    '                security: plain,integrity,integrity-hmac,encrypted,handshakes;',
    '                local: crossbus-shm,messageport-raw,unix-socket,crossbus-shm-oneway,messageport-raw-oneway,',
    '                crossbus-shm-bus,crossbus-port-bus;',
    '                connect: crossbus,nats-tls,reconnect;',
    '                sync: bytes,json,text,realtime;',
    '                kv: crossbus-put,crossbus-put-fsync,nats-kv-put,crossbus-get,nats-kv-get,',
    '                crossbus-watch-fanout,nats-kv-watch-fanout,crossbus-resolve,convict — a get also runs',
    '                the puts that fill its bucket; the resolve pair alone starts no server;',
    '                deploy: restart,crossbus-bluegreen,crossbus-rolling,crossbus-canary-rollbacks,',
    '                crossbus-restarts,pm2-restarts;',
    '                cluster: crossbus-cluster,nats-direct,crossbus-cluster-durable,nats-direct-durable;',
    '                durable: crossbus-fsync,crossbus-interval,crossbus-replay,jetstream,jetstream-replay —',
    '                a replay also runs the publish phase that fills its stream)',
    '  --quick       10x fewer messages/requests (smoke test, numbers not meaningful; deploy: one kill per instance)',
    '  --scale=F     multiply message/request counts by F',
    '  --pace=N      pubsub, security: publishers yield to the event loop every N messages (default 100, 0 = never)',
  ].join('\n');
}

function parseOptions(args: string[]): CliOptions | string {
  const opts: CliOptions = { only: undefined, scale: 1, paceEvery: undefined };
  for (const arg of args) {
    if (arg === '--quick') opts.scale = 0.1;
    else if (arg.startsWith('--only=')) opts.only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (arg.startsWith('--scale=')) {
      const f = Number(arg.slice('--scale='.length));
      if (!(f > 0) || !Number.isFinite(f)) return `invalid ${arg}`;
      opts.scale = f;
    } else if (arg.startsWith('--pace=')) {
      const n = Number(arg.slice('--pace='.length));
      if (!Number.isInteger(n) || n < 0) return `invalid ${arg}`;
      opts.paceEvery = n;
    } else return `unknown option ${arg}`;
  }
  return opts;
}

type SuiteResult = BenchOutput & { failures?: string[] };

async function runSuite(suite: Suite, opts: CliOptions): Promise<SuiteResult> {
  switch (suite) {
    case 'pubsub': {
      const { runPubsubBench } = await import('./pubsub.js');
      return runPubsubBench({ only: opts.only, scale: opts.scale, paceEvery: opts.paceEvery });
    }
    case 'rpc': {
      const { runRpcBench } = await import('./rpc.js');
      return runRpcBench({ only: opts.only, scale: opts.scale });
    }
    case 'match': {
      const { runMatchBench } = await import('./match.js');
      return runMatchBench();
    }
    case 'security': {
      const { runSecurityBench } = await import('./security.js');
      return runSecurityBench({ only: opts.only, scale: opts.scale, paceEvery: opts.paceEvery });
    }
    case 'durable': {
      const { runDurableBench } = await import('./durable.js');
      return runDurableBench({ only: opts.only, scale: opts.scale });
    }
    case 'connect': {
      const { runConnectBench } = await import('./connect.js');
      return runConnectBench({ only: opts.only, scale: opts.scale });
    }
    case 'browser': {
      const { runBrowserBench } = await import('./browser.js');
      return runBrowserBench({ only: opts.only, scale: opts.scale });
    }
    case 'local': {
      const { runLocalBench } = await import('./local.js');
      return runLocalBench({ only: opts.only, scale: opts.scale });
    }
    case 'pool': {
      const { runPoolBench } = await import('./pool.js');
      return runPoolBench({ only: opts.only, scale: opts.scale });
    }
    case 'sync': {
      const { runSyncBench } = await import('./sync.js');
      return runSyncBench({ only: opts.only, scale: opts.scale });
    }
    case 'kv': {
      const { runKvBench } = await import('./kv.js');
      return runKvBench({ only: opts.only, scale: opts.scale });
    }
    case 'cluster': {
      const { runClusterBench } = await import('./cluster.js');
      return runClusterBench({ only: opts.only, scale: opts.scale });
    }
    case 'deploy': {
      const { runDeployBench } = await import('./deploy.js');
      return runDeployBench({ only: opts.only, scale: opts.scale });
    }
  }
}

async function main(): Promise<number> {
  const [suiteArg, ...rest] = process.argv.slice(2);
  const isSuite = (s: string | undefined): s is Suite => SUITES.includes(s as Suite);
  if (suiteArg !== 'all' && !isSuite(suiteArg)) {
    process.stderr.write(`${suiteArg === undefined ? 'missing suite' : `unknown suite: ${suiteArg}`}\n\n${usage()}\n`);
    return 2;
  }
  const opts = parseOptions(rest);
  if (typeof opts === 'string') {
    process.stderr.write(`${opts}\n\n${usage()}\n`);
    return 2;
  }

  const suites: readonly Suite[] = suiteArg === 'all' ? SUITES : [suiteArg];
  let ok = true;
  for (const suite of suites) {
    try {
      const out = await runSuite(suite, opts);
      const failures = out.failures ?? [];
      if (failures.length > 0) {
        ok = false;
        process.stderr.write(`bench ${suite}: ${failures.length} failure(s):\n`);
        for (const f of failures) process.stderr.write(`  - ${f}\n`);
      }
      printBench(out);
    } catch (err) {
      ok = false;
      process.stderr.write(`bench ${suite} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  return ok ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  killAllChildrenSync();
}
// Exit explicitly: lingering client sockets/timers must not keep the process (or its output) alive.
process.exit(code);
