import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import {
  DEFAULT_SYNC_HISTORY_LIMIT,
  DEFAULT_SYNC_MAX_CHANGE_BYTES,
  DEFAULT_SYNC_MAX_CLOCK_SKEW_MS,
  DEFAULT_SYNC_MAX_REPLICAS,
  DEFAULT_SYNC_MAX_CONFLICTS,
  DEFAULT_SYNC_MAX_FILE_BYTES,
  DEFAULT_SYNC_MAX_PENDING,
  DEFAULT_SYNC_MAX_RESOLVED_CONFLICTS,
  DEFAULT_SYNC_TOPIC_PREFIX,
  changeProblem,
  formatHlc,
  globToRegExp,
  resolveMeta,
  resolveReplicaOptions,
  syncConflictsTopic,
  syncDocTopic,
  syncSnapshotTopic,
  syncStreamName,
} from '../../src/core/sync/index.js';
import { codeOf } from '../helpers/rejects.js';

function throwsCode(fn: () => unknown, code: string, message?: string): void {
  assert.throws(fn, (e: unknown) => codeOf(e) === code, message);
}

describe('document names', () => {
  test('project/42 is the topic sync.project.42; snapshots on .snap; the stream is sync- and 40 hex of SHA-256', async () => {
    assert.equal(DEFAULT_SYNC_TOPIC_PREFIX, 'sync');
    assert.equal(syncDocTopic('project/42'), 'sync.project.42');
    assert.equal(syncDocTopic('a', 'app.sync'), 'app.sync.a');
    assert.equal(syncSnapshotTopic('sync.project.42'), 'sync.project.42.snap');
    const name = await syncStreamName('sync.project.42', createNodeCryptoProvider());
    assert.match(name, /^sync-[0-9a-f]{40}$/);
    const hex = (await import('node:crypto')).createHash('sha256').update('sync.project.42').digest('hex');
    assert.equal(name, `sync-${hex.slice(0, 40)}`);
  });

  test('a name that is not a valid topic is CB_ERR_TOPIC_INVALID', () => {
    for (const bad of ['', '/a', 'a/', 'a//b', 'a.b', 'a/*', 'a/>', 'a b', 'x'.repeat(300)]) {
      throwsCode(() => syncDocTopic(bad), 'CB_ERR_TOPIC_INVALID', bad);
    }
    throwsCode(() => syncDocTopic('a', 'bad prefix'), 'CB_ERR_INVALID_OPTION');
    // The longest name whose longest topic (its conflicts') still fits the 256-byte topic limit.
    const longest = 'x'.repeat(256 - 'sync.'.length - '.conflicts'.length);
    assert.equal(syncDocTopic(longest).length, 246);
    assert.equal(syncConflictsTopic(syncDocTopic(longest)).length, 256);
    throwsCode(() => syncDocTopic(`${longest}x`), 'CB_ERR_TOPIC_INVALID');
  });

  test("a name ending in another document's snapshot or conflicts token is refused", () => {
    // `a/snap` would publish on `a`'s snapshot topic; `a/conflicts` on its announcements.
    for (const bad of ['a/snap', 'a/b/conflicts']) throwsCode(() => syncDocTopic(bad), 'CB_ERR_TOPIC_INVALID', bad);
    assert.equal(syncDocTopic('snap'), 'sync.snap');
    assert.equal(syncDocTopic('a/snap/b'), 'sync.a.snap.b');
  });
});

describe('document meta', () => {
  test('defaults for every limit', () => {
    const m = resolveMeta();
    assert.deepEqual(m.limits, {
      historyLimit: DEFAULT_SYNC_HISTORY_LIMIT,
      maxConflicts: DEFAULT_SYNC_MAX_CONFLICTS,
      maxResolvedConflicts: DEFAULT_SYNC_MAX_RESOLVED_CONFLICTS,
      maxFileBytes: DEFAULT_SYNC_MAX_FILE_BYTES,
      maxChangeBytes: DEFAULT_SYNC_MAX_CHANGE_BYTES,
      maxReplicas: DEFAULT_SYNC_MAX_REPLICAS,
      maxClockSkewMs: DEFAULT_SYNC_MAX_CLOCK_SKEW_MS,
    });
    assert.deepEqual([m.kind, m.changeDetection, m.strategyFor('/anything')], ['json', 'sequence', 'merge']);
  });

  test('strategies: globs over / paths, first match wins, merge otherwise', () => {
    const m = resolveMeta({
      strategies: [
        { path: '/settings/**', strategy: 'lww' },
        { path: '/docs/*.md', strategy: 'manual' },
        { path: '/**/price', strategy: 'custom:pricing' },
        { path: '/docs/**', strategy: 'lww' },
      ],
    });
    assert.equal(m.strategyFor('/settings'), 'lww');
    assert.equal(m.strategyFor('/settings/a/b'), 'lww');
    assert.equal(m.strategyFor('/docs/readme.md'), 'manual');
    assert.equal(m.strategyFor('/docs/sub/readme.md'), 'lww');
    assert.equal(m.strategyFor('/items/3/price'), 'custom:pricing');
    assert.equal(m.strategyFor('/price'), 'custom:pricing');
    assert.equal(m.strategyFor('/other'), 'merge');
    assert.ok(globToRegExp('**').test('/x/y'));
    assert.ok(!globToRegExp('/a.b').test('/aXb'));
    assert.ok(globToRegExp('/a?c').test('/abc') && !globToRegExp('/a?c').test('/a/c'));
  });

  test('invalid or conflicting meta is a typed ConfigError', () => {
    const invalid = [
      { kind: 'xml' },
      { changeDetection: 'mtime' },
      { strategies: {} },
      { strategies: [{ path: 'no-slash', strategy: 'lww' }] },
      { strategies: [{ path: '/a', strategy: 'custom:' }] },
      { strategies: [{ path: '/a', strategy: 'newest' }] },
      { limits: { historyLimit: 0 } },
      { limits: { maxConflicts: -1 } },
      { limits: { maxChangeBytes: 255 } },
      { limits: { maxFileBytes: 1.5 } },
      { limits: { maxClockSkewMs: -1 } },
      { limits: { maxReplicas: 0 } },
    ];
    for (const meta of invalid) throwsCode(() => resolveMeta(meta as never), 'CB_ERR_INVALID_OPTION', JSON.stringify(meta));
    throwsCode(
      () =>
        resolveMeta({
          strategies: [
            { path: '/a', strategy: 'lww' },
            { path: '/a', strategy: 'manual' },
          ],
        }),
      'CB_ERR_CONFLICTING_OPTIONS',
    );
    assert.equal(resolveMeta({ limits: { historyLimit: 1, maxConflicts: 0, maxChangeBytes: 256 } }).limits.maxConflicts, 0);
    assert.equal(resolveMeta({ limits: { maxClockSkewMs: 0 } }).limits.maxClockSkewMs, 0);
    assert.equal(resolveMeta({ limits: { maxReplicas: 1 } }).limits.maxReplicas, 1);
  });
});

describe('replica options', () => {
  test('defaults; a random id when none is given', () => {
    const o = resolveReplicaOptions();
    assert.match(o.replica, /^r-[0-9a-f]{16}$/);
    assert.equal(o.maxPending, DEFAULT_SYNC_MAX_PENDING);
    assert.deepEqual([o.pending, o.rseq, o.crypto], [[], 0, undefined]);
  });

  test('invalid and conflicting options are typed', () => {
    const c = { replica: 'b', rseq: 1, base: 0, hlc: formatHlc(1, 0, 'b'), ops: [] };
    throwsCode(() => resolveReplicaOptions({ replica: 'a:b' }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => resolveReplicaOptions({ maxPending: 0 }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => resolveReplicaOptions({ crypto: {} as never }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => resolveReplicaOptions({ resolvers: { 'a b': () => 1 } }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => resolveReplicaOptions({ rseq: -1 }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => resolveReplicaOptions({ replica: 'a', pending: [c] }), 'CB_ERR_CONFLICTING_OPTIONS');
    throwsCode(() => resolveReplicaOptions({ replica: 'b', pending: [c, c] }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => resolveReplicaOptions({ replica: 'b', pending: [c, { ...c, rseq: 2 }], maxPending: 1 }), 'CB_ERR_CONFLICTING_OPTIONS');
    assert.equal(resolveReplicaOptions({ replica: 'b', pending: [c, { ...c, rseq: 5 }], rseq: 3 }).rseq, 5);
  });
});

describe('change shape', () => {
  const ok = { replica: 'a', rseq: 1, base: 0, hlc: formatHlc(1, 0, 'a'), ops: [{ type: 'insert', path: '/x', value: 1, timestamp: 1 }] };
  test('a valid change passes; every malformed part is named', () => {
    assert.equal(changeProblem(ok), undefined);
    const bad: Array<Record<string, unknown>> = [
      { replica: 'a b' },
      { rseq: 0 },
      { base: -1 },
      { hlc: formatHlc(1, 0, 'someone-else') },
      { ops: {} },
      { ops: [{ type: 'move', path: '/x', timestamp: 1 }] },
      { ops: [{ type: 'insert', path: 'x', value: 1, timestamp: 1 }] },
      { ops: [{ type: 'insert', path: '/x', timestamp: 1 }] },
      { ops: [{ type: 'insert', path: '/x', value: 1 }] },
      { ops: [{ type: 'insert', path: '/x', text: [1], timestamp: 1 }] },
      { ops: [{ type: 'update', path: '/x', text: [0], timestamp: 1 }] },
      { ops: [{ type: 'update', path: '/x', text: [1], chunks: { from: 0, parts: [] }, timestamp: 1 }] },
      { ops: [{ type: 'update', path: '/x', chunks: { from: -1, parts: [] }, timestamp: 1 }] },
      { hash: 'short' },
      { resolve: { conflict: '1:0', take: 'theirs' } },
      { meta: [] },
    ];
    for (const b of bad) assert.notEqual(changeProblem({ ...ok, ...b }), undefined, JSON.stringify(b));
    assert.notEqual(changeProblem(ok, true), undefined, 'an entry needs seq');
    assert.equal(changeProblem({ ...ok, seq: 3 }, true), undefined);
  });
});
