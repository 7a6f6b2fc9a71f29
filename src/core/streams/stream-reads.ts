/**
 * The STREAM operations that only read: a page of messages (`read`, of the whole stream or of one
 * topic), a topic's newest message
 * (`last`), and the newest message of every topic matching a pattern (`last-per-topic`, what a
 * KV bucket's `keys` and a watcher's start read). Access is checked by the caller (stream-admin.ts).
 * A stream with `maxAgeMs` never answers with a message older than that, even before the
 * retention timer dropped it: an expired KV value is gone at its expiry, not up to a tick later.
 */
import { createError } from '../errors/index.js';
import { toBase64 } from '../security/bytes.js';
import { topicProblem } from '../topic.js';
import { patternMatches } from '../routing/pattern-match.js';
import type { StoredMessage } from './storage.js';
import type { Stream } from './stream.js';
import type { WireRecord } from './wire.js';

/** Most messages one `read` or `last-per-topic` page returns. @default 1000 */
export const MAX_READ_MESSAGES = 1000;

export interface ReadLimits {
  /** Record bytes one page may carry (a page holds at least one message). */
  maxBytes: number;
  /** Longest topic pattern accepted. */
  maxTopicLength: number | undefined;
  now: number;
}

export async function readPage<S>(stream: Stream<S>, fromSeq: unknown, maxMessages: unknown, limits: ReadLimits): Promise<WireRecord[]> {
  const from = checkFrom(fromSeq);
  const max = checkMax(maxMessages);
  const page = await stream.usable().read(from, { maxMessages: max, maxBytes: limits.maxBytes });
  return page.map(toWire);
}

export async function lastOfTopic<S>(stream: Stream<S>, topic: string, now: number): Promise<WireRecord | null> {
  const m = await stream.usable().lastForTopic(topic);
  return m === undefined || stream.expired(m, now) ? null : toWire(m);
}

/**
 * The stored messages of one topic (exact), oldest first, from `fromSeq` on: a page of at most
 * `maxMessages`, found through the per-topic index rather than by reading the whole stream.
 */
export async function readTopic<S>(
  stream: Stream<S>,
  topic: string,
  fromSeq: unknown,
  maxMessages: unknown,
  limits: ReadLimits,
): Promise<WireRecord[]> {
  const from = checkFrom(fromSeq);
  const max = checkMax(maxMessages);
  const out: WireRecord[] = [];
  let bytes = 0;
  for await (const m of topicMessages(stream, topic, from, limits.now)) {
    if (out.length === max || (out.length > 0 && bytes >= limits.maxBytes)) break;
    bytes += m.payload.length;
    out.push(toWire(m));
  }
  return out;
}

/** The stored, unexpired messages of one topic (exact), oldest first, from `fromSeq` on, through the per-topic index. */
export async function* topicMessages<S>(stream: Stream<S>, topic: string, fromSeq: number, now: number): AsyncGenerator<StoredMessage> {
  const storage = stream.usable();
  for (const seq of await storage.topicSeqs(topic)) {
    if (seq < fromSeq) continue;
    const [m] = await storage.read(seq, { maxMessages: 1 });
    if (m === undefined || m.seq !== seq || stream.expired(m, now)) continue; // deleted meanwhile
    yield m;
  }
}

/** The newest unexpired message of each topic matching `pattern`, from `fromSeq` on, in stream order. */
export async function lastPerTopic<S>(
  stream: Stream<S>,
  pattern: unknown,
  fromSeq: unknown,
  maxMessages: unknown,
  limits: ReadLimits,
): Promise<WireRecord[]> {
  const p = pattern ?? '>';
  const problem = typeof p === 'string' ? topicProblem(p, 'pattern', limits.maxTopicLength) : 'must be a string';
  if (problem !== undefined) throw createError('CB_ERR_INVALID_OPTION', `pattern ${problem}`, { details: { option: 'pattern' } });
  const from = checkFrom(fromSeq);
  const max = checkMax(maxMessages);
  const storage = stream.usable();
  const seqs: number[] = [];
  for (const [topic, seq] of await storage.topicHeads())
    if (seq >= from && (p === '>' || patternMatches(p as string, topic))) seqs.push(seq);
  seqs.sort((a, b) => a - b);
  const out: WireRecord[] = [];
  let bytes = 0;
  for (const seq of seqs) {
    if (out.length === max || (out.length > 0 && bytes >= limits.maxBytes)) break;
    const [m] = await storage.read(seq, { maxMessages: 1 });
    // Deleted, or superseded, while the page was read: its topic's newer message comes later.
    if (m === undefined || m.seq !== seq || stream.expired(m, limits.now)) continue;
    bytes += m.payload.length;
    out.push(toWire(m));
  }
  return out;
}

function checkFrom(fromSeq: unknown): number {
  const from = fromSeq ?? 1;
  if (!Number.isSafeInteger(from) || (from as number) < 0)
    throw createError('CB_ERR_INVALID_OPTION', 'fromSeq must be an integer >= 0', { details: { option: 'fromSeq' } });
  return from as number;
}

function checkMax(maxMessages: unknown): number {
  const max = maxMessages ?? MAX_READ_MESSAGES;
  if (!Number.isSafeInteger(max) || (max as number) < 1 || (max as number) > MAX_READ_MESSAGES) {
    throw createError('CB_ERR_INVALID_OPTION', `maxMessages must be an integer from 1 to ${MAX_READ_MESSAGES}`, {
      details: { option: 'maxMessages' },
    });
  }
  return max as number;
}

export function toWire(m: StoredMessage): WireRecord {
  const r: WireRecord = { seq: m.seq, time: m.time, topic: m.topic, payloadType: m.payloadType, payload: toBase64(m.payload) };
  if (m.headers !== undefined) r.headers = m.headers;
  if (m.msgId !== undefined) r.msgId = m.msgId;
  return r;
}
