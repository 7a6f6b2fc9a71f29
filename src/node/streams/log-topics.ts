/**
 * The per-topic side of a segment log: building the topic index of a log that did not keep one
 * (one read of every segment), and choosing what the per-topic limit deletes after a batch.
 */
import { type TopicEntry, type TopicIndex, topicCount } from '../../core/streams/topic-index.js';
import type { LogIndex } from './log-index.js';
import { recordTopic } from './record.js';

/** The topic index, built by reading every record's topic if the log did not keep one. */
export async function buildTopicIndex(index: LogIndex): Promise<TopicIndex> {
  if (index.topics !== undefined) return index.topics;
  const names: string[][] = [];
  for (const seg of index.segments) {
    if (seg.count === 0) {
      names.push([]);
      continue;
    }
    const buf = await seg.readBytes(0, seg.count);
    const start = seg.offsets[0] as number;
    names.push(seg.offsets.map((off) => recordTopic(buf, off - start)));
  }
  return index.indexTopics(names);
}

/** The oldest seqs of the topics in `overfull` beyond `limit`: what the per-topic limit deletes. */
export function limitVictims(overfull: Iterable<TopicEntry>, limit: number): number[] {
  const victims: number[] = [];
  // A topic appended to several times in a batch is listed as often: its oldest go once.
  for (const e of new Set(overfull)) for (let k = 0; k < topicCount(e) - limit; k++) victims.push(e.seqs[e.head + k] as number);
  return victims;
}
