/**
 * A crossbus message as a JetStream message: the topic is the subject's tail, the payload is the
 * body, and what else crossbus keeps rides in NATS headers:
 *
 *   CB-Time      the crossbus time (ms), which may differ from JetStream's own timestamp
 *   CB-Type      the payload type (0 none, 1 JSON, 2 bytes)
 *   CB-Headers   the message's headers as one JSON object, non-ASCII escaped (NATS header names
 *                are tokens and values one line: crossbus header names and values are neither)
 *   CB-Msg-Id    the publisher's id, URI-encoded; `Nats-Msg-Id` instead when JetStream de-duplicates
 *   CB-Origin    which storage appended it (a hub tells its own appends from other hubs')
 *
 * A message someone else put under our subjects is read leniently: JetStream's time, bytes.
 */
import type { MsgHdrs } from 'nats';
import type { AppendInput, StoredMessage } from '../../core/streams/storage.js';
import { EncodedHeaders } from './jetstream-headers.js';

export const H_TIME = 'CB-Time';
export const H_TYPE = 'CB-Type';
export const H_HEADERS = 'CB-Headers';
export const H_MSG_ID = 'CB-Msg-Id';
export const H_ORIGIN = 'CB-Origin';
export const H_NATS_MSG_ID = 'Nats-Msg-Id';
/** Added by JetStream to a headers-only republish: the body's size. */
export const H_NATS_MSG_SIZE = 'Nats-Msg-Size';
/** Headers JetStream adds to what it republishes: not part of the stored message. */
const REPUBLISH_HEADERS = new Set([
  'Nats-Stream',
  'Nats-Subject',
  'Nats-Sequence',
  'Nats-Last-Sequence',
  'Nats-Time-Stamp',
  H_NATS_MSG_SIZE,
]);

export type HeaderEntries = Array<[string, string]>;

/** The NATS headers of a message, in the order they are sent. */
export function headerEntries(m: AppendInput, time: number, origin: string, natsDedupe: boolean): HeaderEntries {
  const out: HeaderEntries = [
    [H_TIME, String(time)],
    [H_TYPE, String(m.payloadType)],
    [H_ORIGIN, origin],
  ];
  if (m.headers !== undefined && Object.keys(m.headers).length > 0) out.push([H_HEADERS, asciiJson(m.headers)]);
  if (m.msgId !== undefined) out.push([natsDedupe ? H_NATS_MSG_ID : H_MSG_ID, encodeURIComponent(m.msgId)]);
  return out;
}

/** The headers to publish, over `entries` (which they then own: a `set` on them changes it). */
export function toNatsHeaders(entries: HeaderEntries): MsgHdrs {
  return new EncodedHeaders(entries);
}

/** Bytes of the header block as nats.js writes it (`NATS/1.0\r\n` + `k: v\r\n`... + `\r\n`). */
export function headerBytes(entries: HeaderEntries): number {
  if (entries.length === 0) return 0;
  let n = 'NATS/1.0'.length + 4;
  for (const [k, v] of entries) n += 4 + k.length + v.length; // ASCII only: see asciiJson, encodeURIComponent
  return n;
}

/** What JetStream counts for one stored message (nats-server's fileStoreMsgSize). */
export function recordSize(subjectBytes: number, hdrBytes: number, payloadBytes: number): number {
  return hdrBytes === 0 ? 30 + subjectBytes + payloadBytes : 34 + subjectBytes + hdrBytes + payloadBytes;
}

/** The entries of received headers, minus what JetStream added when republishing (for sizes). */
export function entriesOf(h: MsgHdrs | undefined): HeaderEntries {
  const out: HeaderEntries = [];
  if (h === undefined) return out;
  for (const k of h.keys()) if (!REPUBLISH_HEADERS.has(k)) for (const v of h.values(k)) out.push([k, v]);
  return out;
}

/** Crossbus time of a message: its CB-Time, else JetStream's own timestamp. */
export function timeOf(h: MsgHdrs | undefined, fallback: () => number): number {
  const t = Number(h?.get(H_TIME) ?? Number.NaN);
  return Number.isSafeInteger(t) ? t : fallback();
}

/** A stored JetStream message as crossbus reads it. */
export function decodeStored(
  m: { seq: number; subject: string; header: MsgHdrs | undefined; data: Uint8Array; time: Date },
  subjectPrefix: string,
): StoredMessage {
  const h = m.header;
  const type = Number(h?.get(H_TYPE) ?? 2);
  const out: StoredMessage = {
    seq: m.seq,
    time: timeOf(h, () => m.time.getTime()),
    topic: m.subject.startsWith(subjectPrefix) ? m.subject.slice(subjectPrefix.length) : m.subject,
    payloadType: type === 0 || type === 1 ? type : 2,
    payload: m.data,
  };
  const json = h?.get(H_HEADERS) ?? '';
  if (json !== '') {
    try {
      const parsed = JSON.parse(json) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') headers[k] = v;
        out.headers = headers;
      }
    } catch {
      // not ours: read without headers
    }
  }
  const id = h?.get(H_MSG_ID) || h?.get(H_NATS_MSG_ID) || '';
  if (id !== '') {
    try {
      out.msgId = decodeURIComponent(id);
    } catch {
      out.msgId = id;
    }
  }
  return out;
}

/** JSON with every character past ASCII escaped: one header line, its length in bytes its length in chars. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
