/**
 * Stream and consumer configurations: their defaults and their validation. Used by the hub on
 * every STREAM operation and by the client before it sends one, so a bad option fails at once
 * with CB_ERR_INVALID_OPTION or CB_ERR_CONFLICTING_OPTIONS naming the option.
 */
import { ConfigError } from '../errors/index.js';
import { topicProblem } from '../topic.js';
import type { DurabilityPolicy } from './storage.js';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_DELIVER,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_MAX_DELIVER,
  DEFAULT_MAX_TOPIC_LENGTH,
  DEFAULT_STREAM_DURABILITY,
} from '../defaults.js';

/** Topic patterns one stream may capture. @default 64 */
export const MAX_STREAM_TOPICS = 64;
/** Stream and consumer names: letters, digits, `_` and `-`, 1 to 64 characters. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The dead-letter stream of stream `S` is named `S.DLQ` (a dot cannot appear in a user's name). */
export const DLQ_SUFFIX = '.DLQ';
/** The longest ackWaitMs, delay or backoff step: one day. */
export const MAX_DELAY_MS = 24 * 60 * 60 * 1000;

export interface StreamConfig {
  /** [A-Za-z0-9_-]{1,64} */
  name: string;
  /** Topic patterns whose messages the stream stores; they may not overlap another stream's. */
  topics: string[];
  /** Drop messages older than this. @default unlimited */
  maxAgeMs?: number;
  /** Keep at most this many bytes (oldest dropped first). @default unlimited */
  maxBytes?: number;
  /** Keep at most this many messages (oldest dropped first). @default unlimited */
  maxMessages?: number;
  /**
   * Keep at most this many messages per topic (1 or more): a message on a topic that already
   * holds this many deletes that topic's oldest, wherever it sits in the log. Sequence numbers
   * are never reused. The history of a key-value bucket (one topic per key).
   * @default unlimited
   */
  maxMessagesPerTopic?: number;
  /** @default DEFAULT_DUPLICATE_WINDOW_MS */
  duplicateWindowMs?: number;
  /**
   * `fsync`: a durable publish is acknowledged once its record is fdatasync'ed (group commit).
   * `interval`: acknowledged once written to the OS, fsync'ed every 200 ms: a power loss or kernel
   * crash can lose up to the last 200 ms of acknowledged messages (a hub crash loses nothing).
   * @default DEFAULT_STREAM_DURABILITY
   */
  durability?: DurabilityPolicy;
}

/** A config with its defaults applied: what the hub stores and reports. */
export interface ResolvedStreamConfig {
  name: string;
  topics: string[];
  maxAgeMs?: number;
  maxBytes?: number;
  maxMessages?: number;
  maxMessagesPerTopic?: number;
  duplicateWindowMs: number;
  durability: DurabilityPolicy;
}

export type DeliverPolicy = 'all' | 'new' | 'last-per-topic' | { seq: number } | { time: number };

export interface ConsumerConfig {
  /** Name of a durable consumer: its position survives client and hub restarts. @default ephemeral */
  durable?: string;
  /** Where a new consumer starts. Ignored when a durable consumer already exists. @default DEFAULT_DELIVER */
  deliver?: DeliverPolicy;
  /** @default DEFAULT_ACK_WAIT_MS */
  ackWaitMs?: number;
  /** @default DEFAULT_MAX_DELIVER */
  maxDeliver?: number;
  /** @default DEFAULT_BACKOFF_MS */
  backoffMs?: number[];
  /** @default DEFAULT_MAX_ACK_PENDING */
  maxAckPending?: number;
}

export interface ResolvedConsumerConfig {
  durable: string | undefined;
  deliver: DeliverPolicy;
  ackWaitMs: number;
  maxDeliver: number;
  backoffMs: number[];
  maxAckPending: number;
}

function invalid(option: string, why: string, value: unknown): ConfigError {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new ConfigError('CB_ERR_INVALID_OPTION', `${option} ${why}, got ${shown.slice(0, 100)}`, { details: { option } });
}

function optionalCount(o: Record<string, unknown>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw invalid(key, `must be an integer from ${min} to ${max}`, v);
  return v;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(k, `is not a ${what} option`, o[k]);
}

export function isDeadLetterName(name: string): boolean {
  return name.endsWith(DLQ_SUFFIX) && NAME_PATTERN.test(name.slice(0, -DLQ_SUFFIX.length));
}

/** A name a client may use for a stream: a user stream's, or `<name>.DLQ`. */
export function streamNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (NAME_PATTERN.test(name) || isDeadLetterName(name)) return undefined;
  return 'must be 1 to 64 letters, digits, "_" or "-"';
}

export function resolveStreamConfig(input: unknown, maxTopicLength = DEFAULT_MAX_TOPIC_LENGTH): ResolvedStreamConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('stream config', 'must be an object', input);
  const o = input as Record<string, unknown>;
  checkKeys(
    o,
    ['name', 'topics', 'maxAgeMs', 'maxBytes', 'maxMessages', 'maxMessagesPerTopic', 'duplicateWindowMs', 'durability'],
    'stream',
  );
  if (typeof o.name !== 'string' || !NAME_PATTERN.test(o.name))
    throw invalid('name', 'must be 1 to 64 letters, digits, "_" or "-"', o.name);
  if (!Array.isArray(o.topics) || o.topics.length === 0 || o.topics.length > MAX_STREAM_TOPICS) {
    throw invalid('topics', `must be an array of 1 to ${MAX_STREAM_TOPICS} topic patterns`, o.topics);
  }
  const topics: string[] = [];
  for (const t of o.topics) {
    const problem = typeof t === 'string' ? topicProblem(t, 'pattern', maxTopicLength) : 'is not a string';
    if (problem !== undefined) throw invalid('topics', problem, t);
    if (!topics.includes(t as string)) topics.push(t as string);
  }
  const durability = o.durability ?? DEFAULT_STREAM_DURABILITY;
  if (durability !== 'fsync' && durability !== 'interval') throw invalid('durability', "must be 'fsync' or 'interval'", durability);
  const out: ResolvedStreamConfig = {
    name: o.name,
    topics,
    duplicateWindowMs: optionalCount(o, 'duplicateWindowMs', 0, MAX_DELAY_MS) ?? DEFAULT_DUPLICATE_WINDOW_MS,
    durability,
  };
  const maxAgeMs = optionalCount(o, 'maxAgeMs', 1);
  const maxBytes = optionalCount(o, 'maxBytes', 1);
  const maxMessages = optionalCount(o, 'maxMessages', 1);
  const maxMessagesPerTopic = optionalCount(o, 'maxMessagesPerTopic', 1);
  if (maxAgeMs !== undefined) out.maxAgeMs = maxAgeMs;
  if (maxBytes !== undefined) out.maxBytes = maxBytes;
  if (maxMessages !== undefined) out.maxMessages = maxMessages;
  if (maxMessagesPerTopic !== undefined) out.maxMessagesPerTopic = maxMessagesPerTopic;
  return out;
}

function resolveDeliver(v: unknown): DeliverPolicy {
  if (v === undefined) return DEFAULT_DELIVER;
  if (v === 'all' || v === 'new' || v === 'last-per-topic') return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const keys = Object.keys(v);
    const o = v as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === 'seq' && Number.isSafeInteger(o.seq) && (o.seq as number) >= 1) return { seq: o.seq as number };
    if (keys.length === 1 && keys[0] === 'time' && Number.isSafeInteger(o.time) && (o.time as number) >= 0)
      return { time: o.time as number };
  }
  throw invalid('deliver', "must be 'all', 'new', 'last-per-topic', { seq: n >= 1 } or { time: ms }", v);
}

export function resolveConsumerConfig(input: unknown): ResolvedConsumerConfig {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('consumer options', 'must be an object', input);
  const o = input as Record<string, unknown>;
  checkKeys(o, ['durable', 'deliver', 'ackWaitMs', 'maxDeliver', 'backoffMs', 'maxAckPending'], 'consumer');
  if (o.durable !== undefined && (typeof o.durable !== 'string' || !NAME_PATTERN.test(o.durable))) {
    throw invalid('durable', 'must be 1 to 64 letters, digits, "_" or "-"', o.durable);
  }
  let backoffMs = [...DEFAULT_BACKOFF_MS];
  if (o.backoffMs !== undefined) {
    if (!Array.isArray(o.backoffMs) || o.backoffMs.length > 100)
      throw invalid('backoffMs', 'must be an array of at most 100 delays', o.backoffMs);
    for (const d of o.backoffMs)
      if (!Number.isSafeInteger(d) || d < 0 || d > MAX_DELAY_MS)
        throw invalid('backoffMs', `must hold integers from 0 to ${MAX_DELAY_MS}`, d);
    backoffMs = [...(o.backoffMs as number[])];
  }
  return {
    durable: o.durable as string | undefined,
    deliver: resolveDeliver(o.deliver),
    ackWaitMs: optionalCount(o, 'ackWaitMs', 1, MAX_DELAY_MS) ?? DEFAULT_ACK_WAIT_MS,
    maxDeliver: optionalCount(o, 'maxDeliver', 1, 1_000_000) ?? DEFAULT_MAX_DELIVER,
    backoffMs,
    maxAckPending: optionalCount(o, 'maxAckPending', 1, 1_000_000) ?? DEFAULT_MAX_ACK_PENDING,
  };
}

/** Two resolved stream configs describe the same stream (create is idempotent for those). */
export function sameStreamConfig(a: ResolvedStreamConfig, b: ResolvedStreamConfig): boolean {
  return (
    a.name === b.name &&
    a.duplicateWindowMs === b.duplicateWindowMs &&
    a.durability === b.durability &&
    a.maxAgeMs === b.maxAgeMs &&
    a.maxBytes === b.maxBytes &&
    a.maxMessages === b.maxMessages &&
    a.maxMessagesPerTopic === b.maxMessagesPerTopic &&
    a.topics.length === b.topics.length &&
    a.topics.every((t, i) => t === b.topics[i])
  );
}
