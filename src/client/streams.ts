import { fromBase64 } from '../core/security/bytes.js';
import { createError } from '../core/errors/index.js';
import { PayloadType } from '../core/protocol/envelope.js';
import {
  resolveConsumerConfig,
  resolveStreamConfig,
  streamNameProblem,
  type ConsumerConfig,
  type StreamConfig,
} from '../core/streams/config.js';
import { checkExactTopic, checkKeep, checkSeq } from '../core/streams/topic-index.js';
import type { ConsumerInfo, StreamInfo, StreamOp, WireRecord } from '../core/streams/wire.js';
import { decodeJson } from '../core/util/json.js';

/** One stored message, as `streams.read` returns it. */
export interface StreamRecord {
  seq: number;
  /** When the hub stored it (ms since the epoch). */
  time: number;
  topic: string;
  headers?: Record<string, string>;
  /** The JSON value published, a Uint8Array for bytes, undefined for none. */
  data: unknown;
  msgId?: string;
}

export type StreamOpSender = <R>(op: StreamOp) => Promise<R>;

function checkName(name: string): void {
  const problem = streamNameProblem(name);
  if (problem !== undefined) throw createError('CB_ERR_INVALID_OPTION', `stream name ${problem}`, { details: { option: 'name' } });
}

/** Stream management: `bus.streams`. Every call is one round trip to the hub. */
export class StreamsApi {
  constructor(private readonly send: StreamOpSender) {}

  /** Creates a stream; idempotent for an identical config, CB_ERR_STREAM_EXISTS for a different one. */
  async create(config: StreamConfig): Promise<StreamInfo> {
    resolveStreamConfig(config); // fails here, before anything is sent
    return this.send<StreamInfo>({ op: 'create', config: { ...config, topics: [...config.topics] } });
  }

  /**
   * Changes a stream's topics, limits, duplicate window or durability; its messages and durable
   * consumers stay. Members of its consumers are ended (CB_ERR_STREAM_CLOSED) and consume again.
   */
  async update(config: StreamConfig): Promise<StreamInfo> {
    resolveStreamConfig(config);
    return this.send<StreamInfo>({ op: 'update', config: { ...config, topics: [...config.topics] } });
  }

  async info(name: string): Promise<StreamInfo> {
    checkName(name);
    return this.send<StreamInfo>({ op: 'info', name });
  }

  /** Every stream this app may read, each followed by its dead-letter stream ('<NAME>.DLQ'). */
  async list(): Promise<StreamInfo[]> {
    return this.send<StreamInfo[]>({ op: 'list' });
  }

  async delete(name: string): Promise<void> {
    checkName(name);
    await this.send({ op: 'delete', name });
  }

  /** Drops stored messages up to and including `upToSeq` (all when omitted). */
  async purge(name: string, options: { upToSeq?: number } = {}): Promise<{ purged: number }> {
    checkName(name);
    return this.send<{ purged: number }>(
      options.upToSeq === undefined ? { op: 'purge', name } : { op: 'purge', name, upToSeq: options.upToSeq },
    );
  }

  /** Deletes one stored message (a purge of one: the same grant); false when it was not stored. */
  async deleteMessage(name: string, seq: number): Promise<boolean> {
    checkName(name);
    checkSeq(seq);
    return (await this.send<{ deleted: boolean }>({ op: 'delete-message', name, seq })).deleted;
  }

  /** Deletes the stored messages of one topic (exact), but its newest `keep` (default 0). */
  async purgeTopic(name: string, topic: string, options: { keep?: number } = {}): Promise<{ purged: number }> {
    checkName(name);
    checkExactTopic(topic);
    if (options.keep !== undefined) checkKeep(options);
    const op: StreamOp = { op: 'purge-topic', name, topic };
    if (options.keep !== undefined) op.keep = options.keep;
    return this.send<{ purged: number }>(op);
  }

  /** The newest stored message of one topic (exact), or undefined: a lookup, not a scan. */
  async last(name: string, topic: string): Promise<StreamRecord | undefined> {
    checkName(name);
    checkExactTopic(topic);
    const { message } = await this.send<{ message: WireRecord | null }>({ op: 'last', name, topic });
    return message === null ? undefined : fromWire(message);
  }

  /**
   * The newest stored message of every topic matching `pattern` (default `>`: all), in stream
   * order, from `fromSeq` on: one page of at most `maxMessages` (default and most 1000). Page on
   * with `fromSeq` one past the last seq returned until a page comes back empty.
   */
  async lastPerTopic(name: string, options: { pattern?: string; fromSeq?: number; maxMessages?: number } = {}): Promise<StreamRecord[]> {
    checkName(name);
    const op: StreamOp = { op: 'last-per-topic', name };
    if (options.pattern !== undefined) op.pattern = options.pattern;
    if (options.fromSeq !== undefined) op.fromSeq = options.fromSeq;
    if (options.maxMessages !== undefined) op.maxMessages = options.maxMessages;
    const { messages } = await this.send<{ messages: WireRecord[] }>(op);
    return messages.map(fromWire);
  }

  /**
   * A page of stored messages from `fromSeq` on, in order; [] past the end. With `topic` (exact),
   * only that topic's, found through the stream's per-topic index (a key's history).
   */
  async read(name: string, options: { fromSeq?: number; maxMessages?: number; topic?: string } = {}): Promise<StreamRecord[]> {
    checkName(name);
    const op: StreamOp = { op: 'read', name };
    if (options.topic !== undefined) {
      checkExactTopic(options.topic);
      op.topic = options.topic;
    }
    if (options.fromSeq !== undefined) op.fromSeq = options.fromSeq;
    if (options.maxMessages !== undefined) op.maxMessages = options.maxMessages;
    const { messages } = await this.send<{ messages: WireRecord[] }>(op);
    return messages.map(fromWire);
  }

  /** Creates a durable consumer without consuming (it waits at `deliver` for members); idempotent. */
  async addConsumer(stream: string, config: ConsumerConfig & { durable: string }): Promise<ConsumerInfo & { stream: string }> {
    checkName(stream);
    resolveConsumerConfig(config);
    const copy = { ...config, ...(config.backoffMs !== undefined ? { backoffMs: [...config.backoffMs] } : {}) };
    return this.send<ConsumerInfo & { stream: string }>({ op: 'add-consumer', stream, config: copy });
  }

  async deleteConsumer(stream: string, durable: string): Promise<void> {
    checkName(stream);
    await this.send({ op: 'delete-consumer', stream, durable });
  }
}

function fromWire(r: WireRecord): StreamRecord {
  const bytes = fromBase64(r.payload) ?? new Uint8Array(0);
  const data = r.payloadType === PayloadType.JSON ? decodeJson(bytes) : r.payloadType === PayloadType.BYTES ? bytes : undefined;
  const out: StreamRecord = { seq: r.seq, time: r.time, topic: r.topic, data };
  if (r.headers !== undefined) out.headers = r.headers;
  if (r.msgId !== undefined) out.msgId = r.msgId;
  return out;
}
