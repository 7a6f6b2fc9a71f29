import { labelled, type Metric, type Sample } from '../metrics/metric.js';
import type { DeadLetters } from './dead-letters.js';
import type { StreamTable } from './stream-table.js';

/**
 * The stream service's metrics: what each stream (and its dead-letter stream) holds, how far
 * each consumer is behind, and how many dead letters each stream produced. Read when scraped.
 */
export function streamMetrics<S>(table: StreamTable<S>, deadLetters: DeadLetters<S>): readonly Metric[] {
  /** Every stream's info, dead-letter streams included, read once per metric. */
  const infos = () => [...table.values()].flatMap((s) => (s.deadLetters === undefined ? [s.info()] : [s.info(), s.deadLetters.info()]));
  const perStream = (value: (i: ReturnType<typeof infos>[number]) => number) => (): Sample[] =>
    infos().map((i) => ({ labels: { stream: i.name }, value: value(i) }));
  const perConsumer = (value: (lastSeq: number, c: ReturnType<typeof infos>[number]['consumers'][number]) => number) => (): Sample[] =>
    infos().flatMap((i) => i.consumers.map((c) => ({ labels: { stream: i.name, consumer: c.durable }, value: value(i.state.lastSeq, c) })));
  return [
    labelled(
      'gauge',
      'crossbus_stream_messages',
      'messages a stream holds',
      ['stream'],
      perStream((i) => i.state.messages),
    ),
    labelled(
      'gauge',
      'crossbus_stream_bytes',
      'bytes of messages a stream holds',
      ['stream'],
      perStream((i) => i.state.bytes),
    ),
    labelled(
      'gauge',
      'crossbus_stream_last_seq',
      'sequence number of the last message stored in a stream',
      ['stream'],
      perStream((i) => i.state.lastSeq),
    ),
    labelled(
      'gauge',
      'crossbus_stream_consumer_lag',
      "messages stored after the consumer's acknowledged floor",
      ['stream', 'consumer'],
      perConsumer((last, c) => Math.max(0, last - c.ackFloor)),
    ),
    labelled(
      'gauge',
      'crossbus_stream_consumer_pending',
      'deliveries given out and not yet settled',
      ['stream', 'consumer'],
      perConsumer((_, c) => c.pending),
    ),
    labelled(
      'counter',
      'crossbus_stream_dead_letters_total',
      'messages consumers gave up on, by the stream they came from',
      ['stream'],
      () => [...deadLetters.counts].map(([stream, n]) => ({ labels: { stream }, value: n })),
    ),
  ];
}
