/**
 * Sync convergence: 2 to 4 replicas with skewed clocks edit one document at once (JSON keys
 * under merge, lww, manual and a custom resolver, an array, text files), publish to a simulated
 * sequencer log, receive it late and in pieces, drop off the network and come back, restart from
 * their snapshot and offline queue, resolve conflicts. At the end every replica holds the same
 * document and state, no edit nobody else touched is lost, every conflict was met by its path's
 * strategy, lww picked the greatest HLC, and a replica started from a mid-way snapshot equals one
 * that replayed the whole log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import {
  SyncReplica,
  diffJson,
  getAt,
  parsePointer,
  resolveMeta,
  type Change,
  type ConflictInfo,
  type DocumentMeta,
  type LogEntry,
  type SyncReplicaOptions,
  type SyncSnapshot,
} from '../../src/core/sync/index.js';
import type { ReceiveResult } from '../../src/core/sync/replica.js';

const seed = Number(process.env.FC_SEED ?? 20261218);
const crypto = createNodeCryptoProvider();
const KEYS = ['k0', 'k1', 'k2', 'k3'];
const LINES = 6;

type Command =
  | { kind: 'set'; r: number; area: 'obj' | 'lww' | 'man' | 'cus'; key: number; value: number | null }
  | { kind: 'list'; r: number; op: 'insert' | 'delete' | 'update'; at: number; value: number }
  | { kind: 'text'; r: number; file: number; line: number; value: number }
  | { kind: 'publish'; r: number }
  | { kind: 'deliver'; r: number; n: number }
  | { kind: 'partition'; r: number }
  | { kind: 'restart'; r: number }
  | { kind: 'resolve'; r: number; pick: number; take: 'local' | 'remote' | 'merged' }
  | { kind: 'snapshot'; r: number };

const r = fc.nat(3);
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      r,
      area: fc.constantFrom('obj' as const, 'lww' as const, 'man' as const, 'cus' as const),
      key: fc.nat(3),
      value: fc.option(fc.nat(9), { freq: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('list' as const),
      r,
      op: fc.constantFrom('insert' as const, 'delete' as const, 'update' as const),
      at: fc.nat(8),
      value: fc.nat(99),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('text' as const), r, file: fc.nat(1), line: fc.nat(LINES - 1), value: fc.nat(99) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('publish' as const), r }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), r, n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), r }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), r }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('resolve' as const),
      r,
      pick: fc.nat(5),
      take: fc.constantFrom('local' as const, 'remote' as const, 'merged' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), r }) },
);

const META = (historyLimit: number, maxConflicts: number): DocumentMeta => ({
  strategies: [
    { path: '/lww/**', strategy: 'lww' },
    { path: '/man/**', strategy: 'manual' },
    { path: '/cus/**', strategy: 'custom:max' },
  ],
  // A short history also keeps a version vector of one: writers are forgotten and seen again all the time.
  limits: { historyLimit, maxConflicts, maxReplicas: historyLimit < 10 ? 1 : 1000 },
});

const resolvers = {
  max: (c: ConflictInfo): unknown => Math.max(Number(c.localChange.value ?? 0), Number(c.remoteChange.value ?? 0)),
};

/** What a person might write as the merge of a conflict: of the same kind as what is there. */
function mergedValue(c: ConflictInfo): unknown {
  const local = c.localChange.value ?? c.remoteChange.value;
  if (typeof local === 'object' && local !== null && 'text' in local) return { text: `${(local as { text: string }).text}\nmerged` };
  return typeof local === 'number' ? 42 : local;
}

/** A simulated hub: the log, and what each replica has read. */
class World {
  readonly log: LogEntry[] = [];
  readonly replicas: SyncReplica[] = [];
  readonly read: number[] = [];
  readonly offline: boolean[] = [];
  /** Every change any replica made, by `${replica}:${rseq}`. */
  readonly made = new Map<string, Change>();
  snapshot: SyncSnapshot | undefined;

  constructor(
    n: number,
    readonly skews: number[],
  ) {
    for (let i = 0; i < n; i++) {
      this.replicas.push(new SyncReplica(this.options(i)));
      this.read.push(0);
      this.offline.push(false);
    }
  }

  options(i: number, extra: SyncReplicaOptions = {}): SyncReplicaOptions {
    let tick = 0;
    const skew = this.skews[i] as number;
    return { replica: `r${i}`, clock: () => 1_700_000_000_000 + skew + tick++, crypto, resolvers, ...extra };
  }

  async edit(i: number, next: (view: Record<string, unknown>) => unknown): Promise<void> {
    const rep = this.replicas[i] as SyncReplica;
    const view = rep.view as Record<string, unknown>;
    const ops = diffJson(view, next(view), { textMinLength: 0 });
    if (ops.length === 0) return;
    const change = await rep.edit(ops);
    this.made.set(`${change.replica}:${change.rseq}`, change);
  }

  async publish(i: number): Promise<void> {
    if (this.offline[i]) return;
    for (const c of await (this.replicas[i] as SyncReplica).outgoing()) {
      if (this.log.some((e) => e.replica === c.replica && e.rseq === c.rseq)) continue;
      this.made.set(`${c.replica}:${c.rseq}`, c);
      this.log.push({ ...c, seq: this.log.length + 1 });
    }
  }

  async deliver(i: number, n = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.offline[i]) return;
    const rep = this.replicas[i] as SyncReplica;
    for (let k = 0; k < n && (this.read[i] as number) < this.log.length; k++) {
      await rep.receive(this.log[this.read[i] as number] as LogEntry);
      this.read[i] = (this.read[i] as number) + 1;
    }
  }

  /** A client restart: the replica comes back from its persisted snapshot, offline queue and rseq. */
  restart(i: number): void {
    const old = this.replicas[i] as SyncReplica;
    const saved = JSON.parse(JSON.stringify({ snapshot: old.snapshot(), pending: old.pending, rseq: old.rseq }));
    this.replicas[i] = SyncReplica.fromSnapshot(saved.snapshot, this.options(i, { pending: saved.pending, rseq: saved.rseq }));
    this.read[i] = saved.snapshot.seq;
  }

  /** Everyone back online, publishing and reading until nothing is pending (resolvers may add changes). */
  async settle(): Promise<void> {
    this.offline.fill(false);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < this.replicas.length; i++) await this.publish(i);
      for (let i = 0; i < this.replicas.length; i++) await this.deliver(i);
      if (this.replicas.every((rep) => rep.pending.length === 0)) return;
    }
    throw new Error('the replicas did not settle');
  }
}

async function run(commands: Command[], n: number, skews: number[], historyLimit: number, maxConflicts: number): Promise<void> {
  const w = new World(n, skews);
  await w.replicas[0]!.setMeta(META(historyLimit, maxConflicts));
  await w.edit(0, () => ({
    obj: {},
    lww: {},
    man: {},
    cus: {},
    list: [1, 2, 3],
    txt: { f0: { text: Array.from({ length: LINES }, (_, l) => `line ${l}`).join('\n') }, f1: { text: 'a\nb\nc\nd\ne\nf' } },
  }));
  await w.settle();
  for (const c of commands) {
    const i = c.r % n;
    switch (c.kind) {
      case 'set':
        await w.edit(i, (v) => {
          const area = { ...(v[c.area] as Record<string, unknown>) };
          if (c.value === null) delete area[KEYS[c.key] as string];
          else area[KEYS[c.key] as string] = c.value;
          return { ...v, [c.area]: area };
        });
        break;
      case 'list':
        await w.edit(i, (v) => {
          const list = [...(v.list as unknown[])];
          const at = c.at % (list.length + 1);
          if (c.op === 'insert') list.splice(at, 0, c.value);
          else if (list.length > 0 && c.op === 'delete') list.splice(at % list.length, 1);
          else if (list.length > 0) list[at % list.length] = c.value;
          return { ...v, list };
        });
        break;
      case 'text':
        await w.edit(i, (v) => {
          const files = v.txt as Record<string, { text: string }>;
          const name = `f${c.file}`;
          const lines = files[name]!.text.split('\n');
          lines[c.line % lines.length] = `edit ${c.value} by r${i}`;
          return { ...v, txt: { ...files, [name]: { text: lines.join('\n') } } };
        });
        break;
      case 'publish':
        await w.publish(i);
        break;
      case 'deliver':
        await w.deliver(i, c.n);
        break;
      case 'partition':
        w.offline[i] = !w.offline[i];
        break;
      case 'restart':
        w.restart(i);
        break;
      case 'resolve': {
        const rep = w.replicas[i]!;
        const parked = rep.conflicts;
        if (parked.length === 0) break;
        const conflict = parked[c.pick % parked.length]!;
        await rep.resolve(conflict.id, c.take, c.take === 'merged' ? mergedValue(conflict) : undefined).catch(() => {});
        break;
      }
      case 'snapshot':
        if (w.snapshot === undefined) w.snapshot = JSON.parse(JSON.stringify(w.replicas[i]!.snapshot()));
        break;
    }
  }
  await w.settle();
  check(w);
  await checkReplay(w);
}

function check(w: World): void {
  const [first, ...rest] = w.replicas as [SyncReplica, ...SyncReplica[]];
  for (const rep of rest) {
    assert.deepEqual(rep.snapshot(), first.snapshot(), `${rep.id} holds what ${first.id} holds`);
    assert.deepEqual(rep.view, first.view);
  }
  assert.deepEqual(first.view, first.confirmed, 'nothing pending: the view is the log');
  // Every change any replica made, restarts and partitions included, reached the log.
  for (const key of w.made.keys())
    assert.ok(
      w.log.some((e) => `${e.replica}:${e.rseq}` === key),
      `${key} reached the log`,
    );
  // Every conflict was met by its path's strategy (lww past maxConflicts; stale for changes based too far back).
  const meta = resolveMeta(first.meta);
  for (const c of [...first.conflicts, ...first.resolvedConflicts]) {
    const strategy = meta.strategyFor(c.path);
    assert.ok(
      c.strategy === strategy || c.strategy === 'lww' || c.strategy === 'stale',
      `${c.id} at ${c.path}: ${c.strategy}, path says ${strategy}`,
    );
    if (c.resolution === undefined) assert.notEqual(c.strategy, 'lww', 'lww never parks');
  }
}

/** A fresh replica reading the whole log, and one from the mid-way snapshot, end where the others did. */
async function checkReplay(w: World): Promise<void> {
  const full = new SyncReplica({ replica: 'observer', crypto });
  const results: ReceiveResult[] = [];
  for (const e of w.log) results.push(await full.receive(e));
  assert.deepEqual(full.snapshot(), w.replicas[0]!.snapshot(), 'a full replay equals every replica');
  for (const [k, res] of results.entries()) {
    // Taking a stale text edit that no longer applies is refused (a person merges by hand instead).
    if (w.log[k]!.resolve?.take === 'remote' && res.error?.code === 'CB_ERR_SYNC_DELTA') continue;
    assert.ok(
      res.error === undefined || res.error.code === 'CB_ERR_SYNC_STALE' || res.error.code === 'CB_ERR_SYNC_NO_CONFLICT',
      String(res.error),
    );
    assert.equal(res.hashMismatch, undefined);
  }
  if (w.snapshot !== undefined) {
    const mid = SyncReplica.fromSnapshot(w.snapshot, { replica: 'late', crypto });
    for (const e of w.log.slice(w.snapshot.seq)) await mid.receive(e);
    assert.deepEqual(mid.snapshot(), full.snapshot(), 'snapshot + replay equals full replay');
  }
  const doc = full.confirmed;
  const accepted = w.log.filter((_, k) => results[k]!.status === 'applied');
  const resolvedPaths = new Set(
    accepted
      .filter((e) => e.resolve !== undefined)
      .flatMap((e) => [...full.resolvedConflicts, ...full.conflicts].filter((c) => c.id === e.resolve?.conflict).map((c) => c.path)),
  );
  // No edit lost: a key only one replica ever wrote ends as its last accepted write (or a conflict holds it).
  for (const key of KEYS) {
    const path = `/obj/${key}`;
    const writes = accepted.flatMap((e) => e.ops.filter((o) => o.path === path).map((o) => ({ e, o })));
    const everWritten = [...w.made.values()].filter((c) => c.ops.some((o) => o.path === path));
    const writers = new Set(everWritten.map((c) => c.replica));
    if (writers.size !== 1 || writes.length === 0) continue;
    const last = writes[writes.length - 1]!;
    const staleLater = w.log.some(
      (e, k) => e.seq > last.e.seq && results[k]!.error?.code === 'CB_ERR_SYNC_STALE' && e.ops.some((o) => o.path === path),
    );
    if (staleLater || resolvedPaths.has(path)) continue;
    assert.deepEqual(
      getAt(doc, parsePointer(path)),
      last.o.type === 'delete' ? undefined : last.o.value,
      `${path}, written only by ${[...writers][0]}`,
    );
  }
  // lww: the write with the greatest HLC wins, whatever the log order and the clocks' skew.
  for (const key of KEYS) {
    const path = `/lww/${key}`;
    if (resolvedPaths.has(path)) continue;
    const writes = accepted.flatMap((e) => e.ops.filter((o) => o.path === path).map((o) => ({ hlc: e.hlc, o })));
    if (writes.length === 0) continue;
    const best = writes.reduce((a, b) => (b.hlc > a.hlc ? b : a));
    assert.deepEqual(getAt(doc, parsePointer(path)), best.o.type === 'delete' ? undefined : best.o.value, `${path}: greatest HLC wins`);
  }
}

test(`sync: replicas converge under concurrency, delays, partitions and restarts (seed ${seed})`, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.integer({ min: -3_600_000, max: 3_600_000 }), { minLength: 4, maxLength: 4 }),
      fc.constantFrom(4, 1000),
      fc.constantFrom(1, 256),
      fc.array(command, { minLength: 10, maxLength: 80, size: 'max' }),
      async (n, skews, historyLimit, maxConflicts, commands) => run(commands, n, skews, historyLimit, maxConflicts),
    ),
    { seed, numRuns: 400 },
  );
});
