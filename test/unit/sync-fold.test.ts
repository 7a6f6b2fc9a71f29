/**
 * Text edits folded in a document's draft: consecutive in-place edits of one text become one op
 * (tested on the helper, and on the wire through a real stream hub in batch mode).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { foldTextEdit } from '../../src/client/sync/fold-text-edits.js';
import { createSync } from '../../src/client/sync/sync-api.js';
import { applyOps, decodeBatch, diffText, type DeltaOperation } from '../../src/core/sync/index.js';
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
