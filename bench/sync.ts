/**
 * State sync (issue 18), side by side:
 *   bytes     a 1 MB project of 500 files, one line edited: the bytes of the change on the wire
 *             (one PUBLISH frame with its record overhead) against a full transfer of the project
 *             (the same encoding): results `bytes-saved`, the percentage saved
 *   json      delta generation + apply on a 1 MB JSON document after 1 % random edits: crossbus
 *             (diffJson + applyOps) vs fast-json-patch (compare + applyPatch) vs jsondiffpatch
 *             (diff + patch), operations per second
 *   text      two authors typing one text, a 10,000-edit trace, exchanged in rounds of 20 edits:
 *             crossbus (two replicas and a log) vs Yjs vs Automerge: edits per second to converge,
 *             and edits per KiB on the wire
 *   realtime  round trips through a real hub: one replica edits, the other sees it and answers
 *             (round trips per second; p50 and p99 in the table)
 * The crossbus parts run the built package (`npm run bench` builds first).
 */
import { performance } from 'node:perf_hooks';
import type * as SyncCore from '../src/core/sync/index.js';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note } from './lib/procs.js';
import {
  fastJsonPatch,
  jsonDiffPatch,
  replayAutomerge,
  replayYjs,
  rounds,
  clampEdit,
  type JsonDeltaSystem,
  type TraceResult,
} from './sync-peers.js';
import { editJson, editOneLine, makeJsonDocument, makeProject, makeTypingTrace, type Json, type TraceEdit } from './sync-workloads.js';
import { measureRealtime } from './sync-realtime.js';

export interface SyncBenchOptions {
  only?: readonly string[];
  scale?: number;
}

type Core = typeof SyncCore;

/** Rounds of the JSON part; each system runs once per round, in turn. */
const JSON_ROUNDS = 5;

async function loadCore(): Promise<Core> {
  return (await import(new URL('../dist/core/sync/index.js', import.meta.url).href)) as Core;
}

/** Bytes of one PUBLISH frame carrying `payload` to a document topic, sealed (AES-GCM: 12-byte nonce, 16-byte tag, 5-byte record header). */
async function frameBytes(payloadBytes: number, topic: string, msgId: string): Promise<number> {
  const { encodeFrame } = (await import(new URL('../dist/core/protocol/codec.js', import.meta.url).href)) as {
    encodeFrame: (env: unknown) => Uint8Array;
  };
  const { envelope, Kind } = (await import(new URL('../dist/core/protocol/envelope.js', import.meta.url).href)) as {
    envelope: (kind: number, fields: unknown) => unknown;
    Kind: { PUBLISH: number };
  };
  const frame = encodeFrame(
    envelope(Kind.PUBLISH, {
      topic,
      payload: new Uint8Array(payloadBytes),
      payloadType: 3,
      headers: { 'cb-durable': '1', 'cb-msg-id': msgId },
    }),
  );
  return frame.length + 12 + 16 + 5;
}

/** A project as a file tree document: `/a/b.ts` → `{ a: { 'b.ts': { text } } }`. */
function projectTree(project: Map<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [path, text] of project) {
    const segs = path.split('/').slice(1);
    let dir = root;
    for (const s of segs.slice(0, -1)) dir = (dir[s] ??= {}) as Record<string, unknown>;
    dir[segs[segs.length - 1] as string] = { text };
  }
  return root;
}

async function bytesSaved(core: Core): Promise<{ full: number; delta: number; saved: number }> {
  const project = makeProject(500, 1_000_000);
  const tree = projectTree(project);
  const topic = 'sync.project.bench';
  const author = new core.SyncReplica({ replica: 'bench-a', clock: () => 1_700_000_000_000 });
  // The whole project in one message, encoded as a change would be (a change that large is over
  // the default maxChangeBytes: a replica gets it as a snapshot; the bytes are what count here).
  const whole = { replica: 'bench-a', rseq: 1, base: 0, hlc: '018bcfe56800:0000:bench-a', ops: core.diffJson({}, tree) };
  const full = await frameBytes(core.encodeBatch([whole], { maxBatchBytes: 8 << 20 }).length, topic, 'bench-a:1');
  // The author holds the project (made in parts: each change stays under maxChangeBytes).
  const files = [...project];
  for (let i = 0; i < files.length; i += 100) await author.edit(core.diffJson(author.view, projectTree(new Map(files.slice(0, i + 100)))));
  const [path, text] = files[250] as [string, string];
  const edit = await author.edit([{ type: 'update', path, text: core.diffText(text, editOneLine(text)), timestamp: 1_700_000_000_000 }]);
  const delta = await frameBytes(core.encodeBatch([edit]).length, topic, `bench-a:${author.rseq}`);
  return { full, delta, saved: 100 * (1 - delta / full) };
}

/** Like fast-json-patch's applyPatch: the delta applied into the caller's own copy (made outside the timing). */
const crossbusJson = (core: Core): JsonDeltaSystem => ({
  prepare: (a) => structuredClone(a),
  run: (a, b, copy) => core.applyOps(copy, core.diffJson(a, b), { inPlace: true }) as Json,
});

/** What a replica does: a new document that shares what the delta did not touch (no copy to prepare). */
const crossbusJsonShared = (core: Core): JsonDeltaSystem => ({
  prepare: () => undefined,
  run: (a, b) => core.applyOps(a, core.diffJson(a, b)) as Json,
});

/** Operations per second of diff + apply over `pairs` (each from the same document), best of `rounds`. */
function jsonRate(system: JsonDeltaSystem, doc: Json, edited: readonly Json[], roundsN: number): number {
  const expected = edited.map((b) => JSON.stringify(b));
  let best = 0;
  for (let r = 0; r < roundsN; r++) {
    const prepared = edited.map(() => system.prepare(doc));
    const t0 = performance.now();
    const out = edited.map((b, i) => system.run(doc, b, prepared[i]));
    const ms = performance.now() - t0;
    out.forEach((o, i) => {
      if (JSON.stringify(o) !== expected[i]) throw new Error('the applied delta does not give the edited document');
    });
    best = Math.max(best, edited.length / (ms / 1000));
  }
  return best;
}

/** Two crossbus replicas on one log: each round, each author's edits become one change (a text diff of its copy). */
async function replayCrossbus(
  core: Core,
  initial: string,
  edits: readonly TraceEdit[],
  every: number,
): Promise<TraceResult & { parked: number }> {
  const clock = (() => {
    let t = 1_700_000_000_000;
    return () => t++;
  })();
  const reps = [new core.SyncReplica({ replica: 'author-0', clock }), new core.SyncReplica({ replica: 'author-1', clock })];
  const log: SyncCore.LogEntry[] = [];
  const read = [0, 0];
  await (reps[0] as SyncCore.SyncReplica).setMeta({ kind: 'json', strategies: [{ path: '**', strategy: 'merge' }] });
  let bytes = 0;
  const publish = async (r: SyncCore.SyncReplica): Promise<void> => {
    for (const c of await r.outgoing()) {
      if (log.some((e) => e.replica === c.replica && e.rseq === c.rseq)) continue;
      bytes += core.encodeBatch([c]).length;
      log.push({ ...c, seq: log.length + 1 });
    }
  };
  const deliver = async (i: number): Promise<void> => {
    const r = reps[i] as SyncCore.SyncReplica;
    while ((read[i] as number) < log.length) await r.receive(log[(read[i] as number)++] as SyncCore.LogEntry);
  };
  await (reps[0] as SyncCore.SyncReplica).edit(core.diffJson({}, { t: initial }));
  await publish(reps[0] as SyncCore.SyncReplica);
  await deliver(0);
  await deliver(1);
  for (const round of rounds(edits, every)) {
    for (const author of [0, 1] as const) {
      if (round[author].length === 0) continue;
      const r = reps[author] as SyncCore.SyncReplica;
      const before = (r.view as { t: string }).t;
      let text = before;
      for (const e of round[author]) {
        const { pos, del } = clampEdit(e, text.length);
        text = text.slice(0, pos) + e.ins + text.slice(pos + del);
      }
      await r.edit([{ type: 'update', path: '/t', text: core.diffText(before, text), timestamp: clock() }]);
    }
    for (const r of reps) await publish(r);
    await deliver(0);
    await deliver(1);
  }
  const [a, b] = reps.map((r) => (r.view as { t: string }).t);
  return {
    bytes,
    converged: a === b && reps.every((r) => r.pending.length === 0),
    text: a as string,
    parked: (reps[0] as SyncCore.SyncReplica).conflicts.length,
  };
}

export async function runSyncBench(options: SyncBenchOptions = {}): Promise<BenchOutput & { failures: string[] }> {
  const core = await loadCore();
  const scale = options.scale ?? 1;
  const want = (part: string): boolean => options.only === undefined || options.only.includes(part);
  const results: Record<string, number> = {};
  const ratios: Record<string, number> = {};
  const rows: string[][] = [['part', 'system', 'result', 'unit', 'detail']];
  const failures: string[] = [];
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

  if (want('bytes')) {
    const b = await bytesSaved(core);
    note(`bytes: full ${b.full}, one-line edit ${b.delta}`);
    results['bytes-saved'] = Math.round(b.saved * 100) / 100;
    rows.push(['bytes', 'crossbus', b.saved.toFixed(2), '% saved', `${fmt(b.delta)} B for the edit vs ${fmt(b.full)} B in full`]);
  }

  if (want('json')) {
    const doc = makeJsonDocument(1_000_000);
    const edited = Array.from({ length: Math.max(2, Math.round(8 * scale)) }, (_, i) => editJson(doc, 0.01, 100 + i));
    const systems: [string, JsonDeltaSystem][] = [
      ['crossbus', crossbusJson(core)],
      ['crossbus-shared', crossbusJsonShared(core)],
      ['fast-json-patch', fastJsonPatch],
      ['jsondiffpatch', jsonDiffPatch],
    ];
    // The systems take turns, round by round (the best round of each counts): the VM's speed drifts
    // from one second to the next, and a system measured all at once would carry that drift alone.
    const best = new Map<string, number>();
    for (let round = 0; round < JSON_ROUNDS; round++) {
      for (const [name, system] of systems) {
        if (failures.some((f) => f.startsWith(`json ${name}:`))) continue;
        try {
          best.set(name, Math.max(best.get(name) ?? 0, jsonRate(system, doc, edited, 1)));
        } catch (err) {
          failures.push(`json ${name}: ${(err as Error).message}`);
        }
      }
    }
    for (const [name, rate] of best) {
      note(`json ${name}: ${rate.toFixed(1)} diff+apply/s`);
      results[`json-${name}`] = Math.round(rate * 10) / 10;
      rows.push([
        'json',
        name,
        rate.toFixed(1),
        'ops/s',
        `1 MB document, 1 % of its leaves edited; best of ${JSON_ROUNDS} rounds, taking turns`,
      ]);
    }
    for (const peer of ['fast-json-patch', 'jsondiffpatch']) {
      const ours = results['json-crossbus'];
      const theirs = results[`json-${peer}`];
      if (ours !== undefined && theirs !== undefined) ratios[`crossbus/${peer}`] = Math.round((ours / theirs) * 100) / 100;
    }
    const shared = results['json-crossbus-shared'];
    const fjp = results['json-fast-json-patch'];
    if (shared !== undefined && fjp !== undefined) ratios['crossbus-shared/fast-json-patch'] = Math.round((shared / fjp) * 100) / 100;
  }

  if (want('text')) {
    const trace = makeTypingTrace(Math.max(1_000, Math.round(10_000 * scale)));
    const every = 20;
    const runs: [string, () => Promise<TraceResult & { parked?: number }>][] = [
      ['crossbus', () => replayCrossbus(core, trace.initial, trace.edits, every)],
      ['yjs', async () => replayYjs(trace.initial, trace.edits, every)],
      ['automerge', async () => replayAutomerge(trace.initial, trace.edits, every)],
    ];
    for (const [name, run] of runs) {
      try {
        const t0 = performance.now();
        const r = await run();
        const s = (performance.now() - t0) / 1000;
        if (!r.converged) throw new Error('the two copies differ at the end');
        const rate = trace.edits.length / s;
        const perKiB = trace.edits.length / (r.bytes / 1024);
        note(`text ${name}: ${s.toFixed(2)} s, ${r.bytes} B${r.parked ? `, ${r.parked} conflicts parked` : ''}`);
        results[`text-${name}`] = Math.round(rate);
        results[`text-${name}-edits-per-kib`] = Math.round(perKiB * 10) / 10;
        rows.push([
          'text',
          name,
          fmt(rate),
          'edits/s',
          `${s.toFixed(2)} s to converge, ${fmt(r.bytes)} B on the wire (${perKiB.toFixed(1)} edits/KiB)${r.parked ? `, ${r.parked} parked` : ''}`,
        ]);
      } catch (err) {
        failures.push(`text ${name}: ${(err as Error).message}`);
      }
    }
    for (const peer of ['yjs', 'automerge']) {
      const ours = results['text-crossbus'];
      const theirs = results[`text-${peer}`];
      if (ours !== undefined && theirs !== undefined) ratios[`crossbus/${peer}`] = Math.round((ours / theirs) * 100) / 100;
      const ob = results['text-crossbus-edits-per-kib'];
      const tb = results[`text-${peer}-edits-per-kib`];
      if (ob !== undefined && tb !== undefined) ratios[`crossbus/${peer}-bytes`] = Math.round((ob / tb) * 100) / 100;
    }
  }

  if (want('realtime')) {
    try {
      const r = await measureRealtime(Math.max(50, Math.round(500 * scale)));
      results['realtime-round-trips'] = Math.round(r.perSecond);
      rows.push([
        'realtime',
        'crossbus',
        fmt(r.perSecond),
        'round trips/s',
        `through a hub: p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`,
      ]);
    } catch (err) {
      failures.push(`realtime: ${(err as Error).message}`);
    }
  }

  return { suite: 'sync', unit: 'mixed (see table)', table: formatTable(rows), results, ratios, failures };
}
