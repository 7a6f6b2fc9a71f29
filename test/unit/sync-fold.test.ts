/**
 * Text edits folded in a document's draft: consecutive in-place edits of one text become one op
 * (tested on the helper, and on the wire through a real stream hub in batch mode).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { foldEdit, foldTextEdit } from '../../src/client/sync/fold-edits.js';
import { createSync } from '../../src/client/sync/sync-api.js';
import { applyOps, decodeBatch, diffText, type DeltaOperation } from '../../src/core/sync/index.js';
import { until } from '../helpers/wait.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { startStreamHub } from '../helpers/stream-hub.js';

const edit = (path: string, before: string, after: string, timestamp = 1): DeltaOperation => ({
  type: 'update',
  path,
  text: diffText(before, after),
  timestamp,
});

describe('foldTextEdit', () => {
  test('two edits of one text fold into one that does both', () => {
    const texts = ['hello world', 'hello brave world', 'hello brave new world!', 'Hello new world!'];
    for (const wrap of [(t: string) => ({ f: t }), (t: string) => ({ f: { text: t } })]) {
      let doc: unknown = wrap(texts[0] as string);
      let draft: DeltaOperation | undefined;
      for (let i = 1; i < texts.length; i++) {
        const next = edit('/f', texts[i - 1] as string, texts[i] as string, i);
        const folded = draft === undefined ? undefined : foldTextEdit(draft, next, doc);
        doc = applyOps(doc, [next]);
        draft = folded ?? next;
        if (i > 1) assert.ok(folded, `edit ${i} folds`);
      }
      assert.deepEqual(applyOps(wrap(texts[0] as string), [draft as DeltaOperation]), wrap(texts[3] as string));
      assert.equal(draft?.timestamp, 3, 'the folded op carries the last timestamp');
    }
  });

  test('other ops do not fold: another path, a value, an insert, nothing drafted', () => {
    const doc = { a: 'xy', b: 'xy' };
    const a = edit('/a', 'x', 'xy');
    assert.equal(foldTextEdit(a, edit('/b', 'xy', 'xyz'), doc), undefined);
    assert.equal(foldTextEdit({ type: 'update', path: '/a', value: 'xy', timestamp: 1 }, edit('/a', 'xy', 'xyz'), doc), undefined);
    assert.equal(foldTextEdit(a, { type: 'update', path: '/a', value: 'z', timestamp: 1 }, doc), undefined);
    assert.equal(foldTextEdit(undefined, a, doc), undefined);
    assert.equal(foldTextEdit(a, edit('/a', 'xy', 'xyz'), { a: 7 }), undefined, 'not a text there');
  });
});

describe('foldEdit', () => {
  const set = (type: 'insert' | 'update', path: string, value: unknown, oldValue?: unknown, timestamp = 1): DeltaOperation =>
    oldValue === undefined ? { type, path, value, timestamp } : { type, path, value, oldValue, timestamp };

  test('a value set twice at one path is the last value, with the first old value', () => {
    assert.deepEqual(foldEdit(set('update', '/a', 2, 1), set('update', '/a', 3, 2, 5), {}), set('update', '/a', 3, 1, 5));
    assert.deepEqual(
      foldEdit(set('insert', '/l/0', 'x'), set('update', '/l/0', 'y', 'x', 2), {}),
      set('insert', '/l/0', 'y', undefined, 2),
    );
    const doc = { a: 'xy' };
    assert.deepEqual(
      foldEdit(edit('/a', 'x', 'xy'), edit('/a', 'xy', 'xyz'), doc),
      foldTextEdit(edit('/a', 'x', 'xy'), edit('/a', 'xy', 'xyz'), doc),
    );
  });

  test('what does not fold: another path, a delete either side, an append, a text after a value', () => {
    assert.equal(foldEdit(set('update', '/a', 2, 1), set('update', '/b', 3, 2), {}), undefined);
    assert.equal(foldEdit({ type: 'delete', path: '/a', oldValue: 1, timestamp: 1 }, set('insert', '/a', 3), {}), undefined);
    assert.equal(foldEdit(set('update', '/a', 2, 1), { type: 'delete', path: '/a', oldValue: 2, timestamp: 1 }, {}), undefined);
    assert.equal(foldEdit(set('insert', '/l/-', 1), set('insert', '/l/-', 2), {}), undefined);
    assert.equal(foldEdit(set('update', '/a', 'x', 'w'), edit('/a', 'x', 'xy'), { a: 'x' }), undefined);
    assert.equal(foldEdit(set('update', '/a', 1, 0), set('insert', '/a', 2), {}), undefined);
  });
});

describe('manual mode: the edits between two syncs are one change', () => {
  test('keystrokes in a text and a value set again and again meet a concurrent edit once each', async () => {
    const hub = await startStreamHub();
    const crypto = createNodeCryptoProvider();
    const strategies = [{ path: '/**', strategy: 'manual' as const }];
    const a = await createSync(await hub.connect(), { crypto }).open<{ t: string; n: number }>('fold/manual', { strategies });
    const long = `${'line of a long text\n'.repeat(20)}`;
    a.replace({ t: long, n: 0 });
    await a.flushed();
    const b = await createSync(await hub.connect(), { crypto }).open<{ t: string; n: number }>('fold/manual', {
      strategies,
      mode: 'manual',
    });
    await until(() => b.value.n === 0, 3_000, 'b has the document');
    const stream = b.seq;
    for (let i = 1; i <= 30; i++) {
      b.change((d) => {
        d.t = `${d.t}k`;
        d.n = i;
      });
    }
    assert.equal(b.pendingChanges, 1, '30 edits, one change waiting for sync()');
    a.change((d) => {
      d.t = `A${d.t}`;
      d.n = -1;
    });
    await a.flushed();
    await until(() => b.seq > stream, 3_000, "a's edit reached b");
    b.sync();
    await b.flushed();
    await until(() => a.seq === b.seq && a.conflicts.length > 0, 3_000, 'both at the end of the log');
    assert.deepEqual(a.conflicts.map((c) => c.path).sort(), ['/n', '/t'], 'one parked conflict per path, not one per keystroke');
    assert.deepEqual(
      b.conflicts.map((c) => c.id),
      a.conflicts.map((c) => c.id),
    );
    // Taking b's side gives every keystroke at once.
    a.resolve(a.conflicts.find((c) => c.path === '/t')!.id, 'remote');
    a.resolve(a.conflicts.find((c) => c.path === '/n')!.id, 'remote');
    await a.flushed();
    await until(() => b.seq === a.seq && b.conflicts.length === 0, 3_000, 'resolved on b');
    assert.deepEqual(b.value, { t: `${long}${'k'.repeat(30)}`, n: 30 });
    assert.deepEqual(a.value, b.value);
    await Promise.all([a.close(), b.close()]);
    await hub.close();
  });
});

describe('a document drafts typing as one op', () => {
  test('batch mode: keystrokes in one file within the interval are one change with one op', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const doc = await createSync(bus, { crypto: createNodeCryptoProvider() }).open('fold/typing', {
      kind: 'files',
      mode: 'batch',
      intervalMs: 3_600_000,
    });
    await doc.writeFile('/notes.md', 'notes\n');
    await doc.flushed();
    let text = 'notes\n';
    for (const ch of 'typed here') {
      text = `${text.slice(0, -1)}${ch}\n`;
      await doc.writeFile('/notes.md', text);
    }
    await doc.flushed();
    const stream = (await bus.streams.list()).find((s) => s.topics.includes('sync.fold.typing'));
    assert.ok(stream);
    const changes = (await bus.streams.read(stream.name))
      .filter((r) => !r.topic.endsWith('.snap'))
      .flatMap((r) => decodeBatch(r.data as Uint8Array));
    const last = changes[changes.length - 1];
    assert.equal(last?.ops.length, 1, 'ten keystrokes, one op');
    assert.equal(last?.ops[0]?.path, '/notes.md');
    assert.equal(doc.readFile('/notes.md'), text);
    await doc.close();
    await hub.close();
  });
});
