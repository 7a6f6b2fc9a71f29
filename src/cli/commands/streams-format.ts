/**
 * Pure parts of `crossbus stream` and `crossbus dlq`: flag values, tables and JSON lines. No I/O,
 * so they are unit-tested with fixture StreamInfo and StreamRecord objects.
 */
import type { StreamInfo, StreamRecord } from './streams-api.js';
import { payloadJson, type PayloadJson } from '../payload-json.js';

/** The dead-letter stream of a stream, as the hub names it. */
export const dlqName = (stream: string): string => `${stream}.DLQ`;

/** Headers the hub adds to a dead letter; a replay drops them. */
export const DLQ_HEADER_PREFIX = 'cb-dlq-';

export class StreamUsageError extends Error {}

/** A sequence number flag: an integer of at least `min`. */
export function parseSeqFlag(name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new StreamUsageError(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** `--since`: an ISO 8601 time (2025-01-31, 2025-01-31T12:00:00Z) or milliseconds since the epoch. */
export function parseSince(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  throw new StreamUsageError(
    `--since must be an ISO time (2025-01-31T12:00:00Z) or milliseconds since the epoch, got ${JSON.stringify(value)}`,
  );
}

// ------------------------------------------------------------------------------ small formats

/** Strings from the hub end up on a terminal: no escape sequences get through. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

/** 512 B, 1.5 KiB, 12 MiB, 3.0 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let unit = 'B';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${unit}`;
}

/** 1500 ms, 30s, 2m, 1h 30m, 7d: for configured limits. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let s = Math.floor(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

export const isoTime = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '-' : new Date(ms).toISOString());

/** 1..4200, or '-' for an empty stream. */
export function seqRange(info: StreamInfo): string {
  return info.state.messages === 0 ? '-' : `${info.state.firstSeq}..${info.state.lastSeq}`;
}

export function quarantineText(info: StreamInfo): string | undefined {
  return info.quarantined === undefined ? undefined : `QUARANTINED: ${info.quarantined.code}: ${info.quarantined.message}`;
}

/**
 * Left-aligned text, right-aligned where `right[i]`, two spaces apart, indented by two; the last
 * column is not padded (it may be long).
 */
export function table(head: string[], rows: string[][], right: boolean[] = []): string {
  const cells = [head, ...rows.map((r) => r.map(printable))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map(
      (r) =>
        `  ${r
          .map((c, i) => {
            const w = widths[i] ?? 0;
            if (right[i]) return c.padStart(w);
            return i === r.length - 1 ? c : c.padEnd(w);
          })
          .join('  ')}\n`,
    )
    .join('');
}

// ------------------------------------------------------------------------------ stream ls / info

function topicsText(info: StreamInfo): string {
  if (info.deadLetterOf !== undefined) return `(dead letters of ${info.deadLetterOf})`;
  return info.topics.length === 0 ? '-' : info.topics.join(',');
}

/** `crossbus stream ls`. */
export function formatStreamList(infos: StreamInfo[]): string {
  if (infos.length === 0) return 'No streams.\n';
  const rows = [...infos]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => [
      s.name,
      topicsText(s),
      String(s.state.messages),
      formatBytes(s.state.bytes),
      seqRange(s),
      String(s.consumers.length),
      quarantineText(s) ?? 'ok',
    ]);
  return table(['NAME', 'TOPICS', 'MESSAGES', 'BYTES', 'SEQ', 'CONSUMERS', 'STATUS'], rows, [false, false, true, true, false, true, false]);
}

/** `crossbus stream info <name>`; `deadLetters` is the info of '<name>.DLQ' when it exists. */
export function formatStreamInfo(info: StreamInfo, deadLetters: StreamInfo | undefined): string {
  const limits = [
    info.maxAgeMs === undefined ? undefined : `age ${formatMs(info.maxAgeMs)}`,
    info.maxBytes === undefined ? undefined : `${formatBytes(info.maxBytes)}`,
    info.maxMessages === undefined ? undefined : `${info.maxMessages} messages`,
    info.maxMessagesPerTopic === undefined ? undefined : `${info.maxMessagesPerTopic} per topic`,
  ].filter((x) => x !== undefined);
  const fields: Array<[string, string]> = [
    ['topics', topicsText(info)],
    ['messages', `${info.state.messages} (${formatBytes(info.state.bytes)})`],
    ['sequence', seqRange(info)],
    ['first message', isoTime(info.state.firstTime)],
    ['last message', isoTime(info.state.lastTime)],
    ['limits', limits.length === 0 ? 'none' : limits.join(', ')],
    [
      'duplicate window',
      formatMs(info.duplicateWindowMs) +
        (info.duplicates === undefined
          ? ''
          : ` (${info.duplicates.remembered} ids${info.duplicates.forgottenEarly > 0 ? `, ${info.duplicates.forgottenEarly} forgotten early: raise --max-duplicate-ids` : ''})`),
    ],
    ['durability', info.durability],
  ];
  if (info.deadLetterOf === undefined) {
    fields.push([
      'dead letters',
      deadLetters === undefined || deadLetters.state.messages === 0
        ? '0'
        : `${deadLetters.state.messages} (${deadLetters.name}; 'crossbus dlq ls ${info.name}')`,
    ]);
  }
  fields.push(['status', quarantineText(info) ?? 'ok']);
  const w = Math.max(...fields.map(([k]) => k.length)) + 1;
  let out = `Stream ${printable(info.name)}\n`;
  for (const [k, v] of fields) out += `  ${`${k}:`.padEnd(w)} ${printable(v)}\n`;
  if (info.consumers.length === 0) return `${out}No consumers.\n`;
  out += `Consumers (${info.consumers.length}):\n`;
  out += table(
    ['DURABLE', 'ACK FLOOR', 'PENDING', 'WAITING', 'MEMBERS'],
    [...info.consumers]
      .sort((a, b) => a.durable.localeCompare(b.durable))
      .map((c) => [c.durable, String(c.ackFloor), String(c.pending), String(c.waiting), String(c.members)]),
    [false, true, true, true, true],
  );
  return out;
}

/** `crossbus stream info --json`: the StreamInfo plus the dead-letter count. */
export function streamInfoJson(info: StreamInfo, deadLetters: StreamInfo | undefined): string {
  return `${JSON.stringify({ ...info, deadLetters: deadLetters?.state.messages ?? 0 }, null, 2)}\n`;
}

// ------------------------------------------------------------------------------ replay

/** A stored message in JSON output; the payload as `payloadJson` gives it ("data" or "data_b64"). */
export interface RecordJson extends PayloadJson {
  seq: number;
  time: number;
  topic: string;
  headers: Record<string, string>;
  msgId?: string;
}

export function recordJson(r: StreamRecord): RecordJson {
  const out: RecordJson = { seq: r.seq, time: r.time, topic: r.topic, headers: r.headers ?? {}, ...payloadJson(r.data) };
  if (r.msgId !== undefined) out.msgId = r.msgId;
  return out;
}

/** One line of `crossbus stream replay`. */
export const recordLine = (r: StreamRecord): string => `${JSON.stringify(recordJson(r))}\n`;

// ------------------------------------------------------------------------------ dead letters

export interface DeadLetter {
  /** Sequence in the dead-letter stream. */
  seq: number;
  /** When it became a dead letter. */
  time: number;
  topic: string;
  reason: string | undefined;
  attempts: number | undefined;
  /** The stream and sequence it had before. */
  sourceStream: string | undefined;
  sourceSeq: number | undefined;
  /** When it was first stored. */
  originalTime: number | undefined;
  /** The original headers, without cb-dlq-*. */
  headers: Record<string, string>;
  data: unknown;
}

function intHeader(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The headers a replay publishes: the original ones, without the hub's cb-dlq-*. */
export function originalHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (!k.toLowerCase().startsWith(DLQ_HEADER_PREFIX)) out[k] = v;
  return out;
}

export function deadLetter(r: StreamRecord): DeadLetter {
  const h = r.headers ?? {};
  return {
    seq: r.seq,
    time: r.time,
    topic: r.topic,
    reason: h['cb-dlq-reason'],
    attempts: intHeader(h['cb-dlq-attempts']),
    sourceStream: h['cb-dlq-stream'],
    sourceSeq: intHeader(h['cb-dlq-seq']),
    originalTime: intHeader(h['cb-dlq-time']),
    headers: originalHeaders(h),
    data: r.data,
  };
}

/** `crossbus dlq ls <stream>`. */
export function formatDeadLetters(stream: string, records: StreamRecord[]): string {
  if (records.length === 0) return `No dead letters in ${printable(stream)}.\n`;
  const rows = records
    .map(deadLetter)
    .map((d) => [
      String(d.seq),
      d.topic,
      d.reason ?? '-',
      d.attempts === undefined ? '-' : String(d.attempts),
      d.sourceSeq === undefined ? '-' : String(d.sourceSeq),
      isoTime(d.originalTime),
    ]);
  return (
    `Dead letters of ${printable(stream)} (${records.length}):\n` +
    table(['DLQ SEQ', 'TOPIC', 'REASON', 'ATTEMPTS', 'SOURCE SEQ', 'ORIGINAL TIME'], rows, [true, false, false, true, true, false])
  );
}

/** `crossbus dlq ls <stream> --json`: the dead letters, the payload as in `stream replay`. */
export function deadLettersJson(records: StreamRecord[]): string {
  return `${JSON.stringify(
    records.map((r) => {
      const { data: _, ...d } = deadLetter(r);
      return { ...d, headers: r.headers ?? {}, ...payloadJson(r.data) };
    }),
    null,
    2,
  )}\n`;
}
