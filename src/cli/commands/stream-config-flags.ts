/**
 * The flags that describe a stream (`stream add|edit`) and a durable consumer (`consumer add`),
 * turned into the StreamConfig and ConsumerConfig the hub takes. Durations take ms, s, m, h, d
 * (`30s`, `7d`; a bare number is milliseconds); sizes take B, KiB, MiB, GiB, TiB (or K, M, G, T).
 */
import { defineOptions } from '../options.js';
import type { ConsumerConfig, DeliverPolicy, StreamConfig } from '../../core/streams/config.js';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_STREAM_DURABILITY,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_DELIVER,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_MAX_DELIVER,
} from '../../core/defaults.js';
import { StreamUsageError, parseSince } from './streams-format.js';

/** 'none' (or 0) removes a limit in `stream edit`. */
const NONE = /^(none|0)$/i;

export const STREAM_CONFIG_OPTIONS = defineOptions({
  topic: {
    type: 'string',
    multiple: true,
    placeholder: '<pattern>',
    description: 'a topic pattern the stream stores (repeat, or separate with commas); edit: replaces them all',
  },
  'max-age': {
    type: 'string',
    placeholder: '<duration>',
    description: "drop messages older than this; edit: 'none' removes it",
    default: 'no limit',
  },
  'max-bytes': { type: 'string', placeholder: '<size>', description: 'keep at most this much, oldest dropped first', default: 'no limit' },
  'max-msgs': { type: 'string', placeholder: '<n>', description: 'keep at most this many messages', default: 'no limit' },
  'max-msgs-per-topic': {
    type: 'string',
    placeholder: '<n>',
    description: "keep the last n messages of each topic (a key's history); edit: 'none' removes it",
    default: 'no limit',
  },
  'dupe-window': {
    type: 'string',
    placeholder: '<duration>',
    description: 'how long a msgId is remembered for de-duplication',
    default: `${DEFAULT_DUPLICATE_WINDOW_MS}ms`,
  },
  durability: {
    type: 'string',
    placeholder: '<policy>',
    description: 'fsync (acknowledged once on disk) | interval (fsync every 200 ms)',
    default: DEFAULT_STREAM_DURABILITY,
  },
});

export const CONSUMER_CONFIG_OPTIONS = defineOptions({
  deliver: {
    type: 'string',
    placeholder: '<from>',
    description: 'where it starts: all | new | last-per-topic | seq:<n> | time:<ISO time or ms>',
    default: String(DEFAULT_DELIVER),
  },
  'ack-wait': {
    type: 'string',
    placeholder: '<duration>',
    description: 'redeliver what is not acked within this',
    default: `${DEFAULT_ACK_WAIT_MS}ms`,
  },
  'max-deliver': {
    type: 'string',
    placeholder: '<n>',
    description: 'deliveries before a message becomes a dead letter',
    default: DEFAULT_MAX_DELIVER,
  },
  backoff: {
    type: 'string',
    placeholder: '<d1,d2,...>',
    description: 'delays before each redelivery',
    default: DEFAULT_BACKOFF_MS.length === 0 ? 'none: after --ack-wait' : DEFAULT_BACKOFF_MS.map((d) => `${d}ms`).join(','),
  },
  'max-ack-pending': {
    type: 'string',
    placeholder: '<n>',
    description: 'deliveries out at once, unacked',
    default: DEFAULT_MAX_ACK_PENDING,
  },
});

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const UNITS_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1024 ** 4,
};

function withUnit(flag: string, value: string, units: Record<string, number>, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const factor = m === null ? undefined : m[2] === '' ? 1 : units[(m[2] as string).toLowerCase()];
  const n = m === null || factor === undefined ? NaN : Math.round(Number(m[1]) * factor);
  if (!Number.isSafeInteger(n) || n < 1) throw new StreamUsageError(`--${flag} takes ${what}, got ${JSON.stringify(value)}`);
  return n;
}

export const parseDuration = (flag: string, value: string): number =>
  withUnit(flag, value, UNITS_MS, 'a duration (1500, 1500ms, 30s, 5m, 2h, 7d)');
export const parseSize = (flag: string, value: string): number => withUnit(flag, value, UNITS_BYTES, 'a size (1048576, 512KiB, 1GiB)');

function parseCount(flag: string, value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new StreamUsageError(`--${flag} takes an integer of at least 1, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The StreamConfig of `stream add <name>` (no `base`) or `stream edit <name>` (`base`: the
 * config in force; flags not given keep their value, 'none' removes a limit).
 */
export function streamConfigFromFlags(name: string, v: Flags, base?: StreamConfig): StreamConfig {
  const topics = ((v.topic as string[] | undefined) ?? [])
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const config: StreamConfig = { ...(base ?? { topics: [] }), name, topics: topics.length > 0 ? topics : [...(base?.topics ?? [])] };
  if (config.topics.length === 0) throw new StreamUsageError('a stream needs at least one --topic <pattern>');
  const limit = (
    flag: string,
    key: 'maxAgeMs' | 'maxBytes' | 'maxMessages' | 'maxMessagesPerTopic',
    parse: (f: string, s: string) => number,
  ): void => {
    const value = v[flag] as string | undefined;
    if (value === undefined) return;
    if (base !== undefined && NONE.test(value)) delete config[key];
    else config[key] = parse(flag, value);
  };
  limit('max-age', 'maxAgeMs', parseDuration);
  limit('max-bytes', 'maxBytes', parseSize);
  limit('max-msgs', 'maxMessages', parseCount);
  limit('max-msgs-per-topic', 'maxMessagesPerTopic', parseCount);
  const window = v['dupe-window'] as string | undefined;
  if (window !== undefined) config.duplicateWindowMs = NONE.test(window) ? 0 : parseDuration('dupe-window', window);
  const durability = v.durability as string | undefined;
  if (durability !== undefined) {
    if (durability !== 'fsync' && durability !== 'interval')
      throw new StreamUsageError(`--durability takes fsync or interval, got ${JSON.stringify(durability)}`);
    config.durability = durability;
  }
  return config;
}

/** The ConsumerConfig of `consumer add <stream> <name>`. */
export function consumerConfigFromFlags(durable: string, v: Flags): ConsumerConfig & { durable: string } {
  const config: ConsumerConfig & { durable: string } = { durable };
  const deliver = v.deliver as string | undefined;
  if (deliver !== undefined) config.deliver = parseDeliver(deliver);
  if (v['ack-wait'] !== undefined) config.ackWaitMs = parseDuration('ack-wait', v['ack-wait'] as string);
  if (v['max-deliver'] !== undefined) config.maxDeliver = parseCount('max-deliver', v['max-deliver'] as string);
  if (v['max-ack-pending'] !== undefined) config.maxAckPending = parseCount('max-ack-pending', v['max-ack-pending'] as string);
  const backoff = v.backoff as string | undefined;
  if (backoff !== undefined) config.backoffMs = backoff.split(',').map((d) => (d.trim() === '0' ? 0 : parseDuration('backoff', d)));
  return config;
}

function parseDeliver(value: string): DeliverPolicy {
  if (value === 'all' || value === 'new' || value === 'last-per-topic') return value;
  if (value.startsWith('seq:')) return { seq: parseCount('deliver', value.slice(4)) };
  if (value.startsWith('time:')) return { time: parseSince(value.slice(5)) as number };
  throw new StreamUsageError(`--deliver takes all, new, last-per-topic, seq:<n> or time:<time>, got ${JSON.stringify(value)}`);
}

/** The config part of a stream's info: what `stream edit` starts from. */
export function configOf(info: StreamConfig): StreamConfig {
  const { name, topics, maxAgeMs, maxBytes, maxMessages, maxMessagesPerTopic, duplicateWindowMs, durability } = info;
  const config: StreamConfig = { name, topics: [...topics] };
  if (maxAgeMs !== undefined) config.maxAgeMs = maxAgeMs;
  if (maxBytes !== undefined) config.maxBytes = maxBytes;
  if (maxMessages !== undefined) config.maxMessages = maxMessages;
  if (maxMessagesPerTopic !== undefined) config.maxMessagesPerTopic = maxMessagesPerTopic;
  if (duplicateWindowMs !== undefined) config.duplicateWindowMs = duplicateWindowMs;
  if (durability !== undefined) config.durability = durability;
  return config;
}
