/**
 * The StreamStorage contract for deletes inside the log, run against every storage (MemoryStorage
 * and SegmentLog): interior deletes, the per-topic limit, purgeTopic, lastForTopic, topicHeads, reads that
 * skip deleted messages, and what state() counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppendInput, RetentionLimits, StreamStorage } from '../../src/core/streams/storage.js';
import { rejectsWithCode } from './rejects.js';

export interface StorageUnderTest {
  /** A fresh, empty storage with these limits. */
  open(retention?: RetentionLimits): Promise<StreamStorage>;
}

const enc = new TextEncoder();
export const put = (topic: string, value: string, time = 1000): AppendInput => ({
  time,
  topic,
  payloadType: 2,
  payload: enc.encode(value),
});
const text = (p: Uint8Array): string => new TextDecoder().decode(p);

async function appendAll(s: StreamStorage, msgs: Array<[string, string]>, time = 1000): Promise<void> {
  for (const [t, v] of msgs) await s.append([put(t, v, time)]);
}

async function seqsOf(s: StreamStorage, from = 1, max = 1000): Promise<number[]> {
  return (await s.read(from, { maxMessages: max })).map((m) => m.seq);
}

export function storageContract(name: string, sut: StorageUnderTest): void {
  test(`${name}: deleteMessage removes one message from the middle; seqs are never reused`, async () => {
    const s = await sut.open();
    for (let i = 1; i <= 5; i++) await s.append([put(`t.${i}`, `v${i}`, 1000 + i)]);
    const full = s.state().bytes;
    assert.equal(await s.deleteMessage(3), true);
    assert.equal(await s.deleteMessage(3), false, 'already deleted');
    for (const bad of [0, 6, 99, -1, 1.5, Number.NaN]) assert.equal(await s.deleteMessage(bad), false, `seq ${bad}`);
    assert.deepEqual(await seqsOf(s), [1, 2, 4, 5]);
    assert.deepEqual(await seqsOf(s, 3, 1), [4], 'a read from a deleted seq starts at the next stored one');
    assert.deepEqual(await seqsOf(s, 1, 3), [1, 2, 4], 'maxMessages counts stored messages');
    let st = s.state();
    assert.deepEqual([st.firstSeq, st.lastSeq, st.messages], [1, 5, 4]);
    assert.ok(st.bytes < full && st.bytes > 0, `bytes ${st.bytes} of ${full}`);
    assert.equal(await s.deleteMessage(1), true);
    assert.equal(await s.deleteMessage(5), true);
    st = s.state();
    assert.deepEqual([st.firstSeq, st.lastSeq, st.messages, st.firstTime, st.lastTime], [2, 5, 2, 1002, 1004]);
    assert.equal(await s.seqAtTime(1003), 4, 'seqAtTime skips the deleted 3');
    assert.equal(await s.seqAtTime(1005), undefined);
    assert.deepEqual(await s.append([put('t.6', 'v6', 1006)]), { firstSeq: 6, lastSeq: 6 });
    // What is left counts as the same messages stored afresh would.
    const fresh = await sut.open();
    await fresh.append([put('t.2', 'v2', 1002), put('t.4', 'v4', 1004), put('t.6', 'v6', 1006)]);
    assert.equal(s.state().bytes, fresh.state().bytes);
    for (const seq of [2, 4, 6]) assert.equal(await s.deleteMessage(seq), true);
    st = s.state();
    assert.deepEqual([st.firstSeq, st.lastSeq, st.messages, st.bytes], [7, 6, 0, 0]);
    assert.deepEqual(await s.read(1), []);
    assert.deepEqual(await s.append([put('t.7', 'v7')]), { firstSeq: 7, lastSeq: 7 });
    await s.close();
    await fresh.close();
  });

  test(`${name}: maxMessagesPerTopic 1 keeps the newest message of each topic`, async () => {
    const s = await sut.open({ maxMessagesPerTopic: 1 });
    await appendAll(s, [
      ['kv.a', 'a1'],
      ['kv.b', 'b1'],
      ['kv.a', 'a2'],
      ['kv.a', 'a3'],
    ]);
    assert.deepEqual(await seqsOf(s), [2, 4]);
    assert.deepEqual([s.state().firstSeq, s.state().lastSeq, s.state().messages], [2, 4, 2]);
    assert.equal(text((await s.lastForTopic('kv.a'))!.payload), 'a3');
    assert.equal((await s.lastForTopic('kv.b'))!.seq, 2);
    assert.equal(await s.lastForTopic('kv.none'), undefined);
    // Several values of one topic in one append: only the newest stays.
    assert.deepEqual(await s.append([put('kv.c', 'c1'), put('kv.c', 'c2'), put('kv.b', 'b2'), put('kv.c', 'c3')]), {
      firstSeq: 5,
      lastSeq: 8,
    });
    assert.deepEqual(await seqsOf(s), [4, 7, 8]);
    await s.close();
  });

  test(`${name}: maxMessagesPerTopic N keeps exactly N per topic, the N+1th drops that topic's oldest`, async () => {
    const s = await sut.open({ maxMessagesPerTopic: 3 });
    await appendAll(s, [
      ['kv.a', 'a1'],
      ['kv.b', 'b1'],
      ['kv.a', 'a2'],
      ['kv.a', 'a3'],
    ]);
    assert.deepEqual(await seqsOf(s), [1, 2, 3, 4], 'exactly N: nothing dropped');
    await appendAll(s, [['kv.a', 'a4']]);
    assert.deepEqual(await seqsOf(s), [2, 3, 4, 5], "the N+1th drops the topic's oldest (here the first)");
    await appendAll(s, [
      ['kv.b', 'b2'],
      ['kv.b', 'b3'],
      ['kv.a', 'a5'],
    ]);
    assert.deepEqual(await seqsOf(s), [2, 4, 5, 6, 7, 8], 'a middle message dropped (3), b untouched at 3');
    await appendAll(s, [['kv.b', 'b4']]);
    assert.deepEqual(await seqsOf(s), [4, 5, 6, 7, 8, 9]);
    assert.equal(s.state().messages, 6);
    const values = (await s.read(1)).map((m) => `${m.topic}=${text(m.payload)}`);
    assert.deepEqual(values, ['kv.a=a3', 'kv.a=a4', 'kv.b=b2', 'kv.b=b3', 'kv.a=a5', 'kv.b=b4']);
    await s.close();
  });

  test(`${name}: purgeTopic deletes a topic's messages, keeping its newest \`keep\``, async () => {
    const s = await sut.open();
    await appendAll(s, [
      ['kv.a', 'a1'],
      ['kv.b', 'b1'],
      ['kv.a', 'a2'],
      ['kv.a', 'a3'],
      ['kv.b', 'b2'],
      ['kv.a', 'a4'],
    ]);
    assert.equal(await s.purgeTopic('kv.a', { keep: 2 }), 2);
    assert.deepEqual(await seqsOf(s), [2, 4, 5, 6]);
    assert.equal(await s.purgeTopic('kv.a', { keep: 2 }), 0, 'already at keep');
    assert.equal(await s.purgeTopic('kv.a', { keep: 5 }), 0);
    assert.equal(await s.purgeTopic('kv.b'), 2, 'without keep: all of them');
    assert.deepEqual(await seqsOf(s), [4, 6]);
    assert.equal(await s.lastForTopic('kv.b'), undefined);
    assert.equal(await s.purgeTopic('kv.none'), 0);
    assert.equal(await s.purgeTopic('kv'), 0, 'an exact topic, not a prefix');
    assert.equal(await s.purgeTopic('kv.*'), 0, 'an exact topic, not a pattern');
    await rejectsWithCode(s.purgeTopic('kv.a', { keep: -1 }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(s.purgeTopic('kv.a', { keep: 1.5 }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(s.purgeTopic(7 as never), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(s.lastForTopic(undefined as never), 'CB_ERR_INVALID_OPTION');
    assert.equal(await s.purgeTopic('kv.a', { keep: 0 }), 2);
    assert.deepEqual([s.state().firstSeq, s.state().messages], [7, 0]);
    await s.close();
  });

  test(`${name}: lastForTopic follows appends, deletes and purges of the head`, async () => {
    const s = await sut.open();
    await appendAll(s, [
      ['kv.a', 'a1'],
      ['kv.b', 'b1'],
      ['kv.a', 'a2'],
    ]);
    assert.equal((await s.lastForTopic('kv.a'))!.seq, 3, 'built from what was stored before the first call');
    await appendAll(s, [['kv.a', 'a3']]);
    assert.equal((await s.lastForTopic('kv.a'))!.seq, 4, 'kept up to date by appends');
    assert.equal(await s.deleteMessage(4), true);
    assert.equal(text((await s.lastForTopic('kv.a'))!.payload), 'a2');
    assert.equal(await s.purge({ upToSeq: 3 }), 3);
    assert.equal(await s.lastForTopic('kv.a'), undefined, 'a1 and a2 purged with the head');
    assert.equal(await s.lastForTopic('kv.b'), undefined);
    await appendAll(s, [['kv.b', 'b2']]);
    const b = await s.lastForTopic('kv.b');
    assert.deepEqual([b!.seq, b!.topic, text(b!.payload)], [5, 'kv.b', 'b2']);
    await s.close();
  });

  test(`${name}: topicHeads and topicSeqs follow appends, deletes and purges, with or without a kept index`, async () => {
    for (const retention of [{}, { maxMessagesPerTopic: 2 }]) {
      const s = await sut.open(retention);
      assert.deepEqual([...(await s.topicHeads())], []);
      await appendAll(s, [
        ['kv.a', 'a1'],
        ['kv.b', 'b1'],
        ['kv.a', 'a2'],
        ['kv.c', 'c1'],
      ]);
      const sorted = async (): Promise<Array<[string, number]>> => [...(await s.topicHeads())].sort((x, y) => x[1] - y[1]);
      assert.deepEqual(await sorted(), [
        ['kv.b', 2],
        ['kv.a', 3],
        ['kv.c', 4],
      ]);
      assert.deepEqual(await s.topicSeqs('kv.a'), [1, 3]);
      assert.deepEqual(await s.topicSeqs('kv.none'), []);
      const copy = await s.topicHeads();
      copy.clear();
      assert.equal((await s.topicHeads()).size, 3, 'a copy: changing it changes nothing');
      assert.equal(await s.deleteMessage(3), true);
      assert.equal(await s.deleteMessage(4), true);
      await appendAll(s, [['kv.d', 'd1']]);
      assert.deepEqual(await sorted(), [
        ['kv.a', 1],
        ['kv.b', 2],
        ['kv.d', 5],
      ]);
      assert.deepEqual(await s.topicSeqs('kv.a'), [1], 'its deleted seq gone');
      await s.purge({ upToSeq: 2 });
      assert.deepEqual(await sorted(), [['kv.d', 5]]);
      assert.deepEqual(await s.topicSeqs('kv.a'), []);
      await s.close();
    }
  });

  test(`${name}: retention by count and bytes counts stored messages only; purge counts what it dropped`, async () => {
    const s = await sut.open({ maxMessages: 3 });
    await appendAll(s, [
      ['t.1', 'x'],
      ['t.2', 'x'],
      ['t.3', 'x'],
      ['t.4', 'x'],
    ]);
    assert.deepEqual(await seqsOf(s), [2, 3, 4]);
    assert.equal(await s.deleteMessage(3), true);
    await appendAll(s, [['t.5', 'x']]);
    assert.deepEqual(await seqsOf(s), [2, 4, 5], 'two stored plus one: nothing dropped');
    await appendAll(s, [['t.6', 'x']]);
    assert.deepEqual(await seqsOf(s), [4, 5, 6]);
    assert.equal(await s.purge({ upToSeq: 5 }), 2, '4 and 5 (3 was deleted before)');
    assert.deepEqual([s.state().firstSeq, s.state().messages], [6, 1]);
    await s.close();
  });
}
