/**
 * The crossbus envelope: what one frame carries. docs/PROTOCOL.md is the normative description;
 * keep the two in step.
 */

export const PROTOCOL_VERSION = 1;

/** Frame kinds. Values are wire constants: never renumber. */
export const Kind = {
  HELLO: 1,
  WELCOME: 2,
  PUBLISH: 3,
  REQUEST: 4,
  REPLY: 5,
  SUBSCRIBE: 6,
  UNSUBSCRIBE: 7,
  MESSAGE: 8,
  OK: 9,
  ERROR: 10,
  PING: 11,
  PONG: 12,
  GOODBYE: 13,
  /** Client's handshake finish: proves it holds the secret and its ephemeral key (security layer). */
  AUTH: 14,
  /** A protected record: one or more frames, sealed under the session's traffic key. */
  SEALED: 15,
  /** Stream and consumer management: a JSON operation answered by OK (JSON result) or ERROR. */
  STREAM: 16,
  /** Client: settles one stream delivery (ack, nak, term). Hub: confirms every ACK up to its id. */
  ACK: 17,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const KIND_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(Kind).map(([name, value]) => [value, name])),
);

export function isKind(value: number): value is Kind {
  return value >= Kind.HELLO && value <= Kind.ACK;
}

/** How the payload bytes are to be read. */
export const PayloadType = {
  NONE: 0,
  /** UTF-8 JSON text. */
  JSON: 1,
  /** Opaque bytes. */
  BYTES: 2,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

export type Headers = Record<string, string>;

export interface Envelope {
  kind: Kind;
  /** Correlation id of an operation (subscribe, request, ping) or 0. u32. */
  id: number;
  /** Subscription id chosen by the client, on SUBSCRIBE, UNSUBSCRIBE and MESSAGE; else 0. u32. */
  sid: number;
  /** Sequence number (stream position, or per-connection counter); 0 when unset. < 2^53. */
  seq: number;
  /** Milliseconds since the Unix epoch when the frame was created; 0 when unset. < 2^53. */
  timestamp: number;
  /** Topic (PUBLISH/REQUEST/REPLY/MESSAGE) or pattern (SUBSCRIBE); '' when none. */
  topic: string;
  /** Topic a reply should be published to; '' when none. */
  replyTo: string;
  /** Service group name on SUBSCRIBE; '' when none. */
  group: string;
  headers: Headers | undefined;
  payloadType: PayloadType;
  /** Raw payload bytes (may be a view into a larger buffer). */
  payload: Uint8Array;
  /**
   * Encoding only: the payload as text (a JSON payload), written into the frame as UTF-8 in place
   * of `payload`. Spares encoding it into a buffer of its own first, which costs more than the
   * rest of encoding a small frame. Decoded envelopes never have it.
   */
  payloadText?: string | undefined;
}

const EMPTY = new Uint8Array(0);

/** The payload part of an envelope, as a sender builds it. */
export interface PayloadFields {
  payloadType: PayloadType;
  payload: Uint8Array;
  payloadText: string | undefined;
}

export function envelope(kind: Kind, fields: Partial<Omit<Envelope, 'kind'>> = {}): Envelope {
  return {
    kind,
    id: fields.id ?? 0,
    sid: fields.sid ?? 0,
    seq: fields.seq ?? 0,
    timestamp: fields.timestamp ?? 0,
    topic: fields.topic ?? '',
    replyTo: fields.replyTo ?? '',
    group: fields.group ?? '',
    headers: fields.headers,
    payloadType: fields.payloadType ?? (fields.payload ? PayloadType.BYTES : PayloadType.NONE),
    payload: fields.payload ?? EMPTY,
    payloadText: fields.payloadText,
  };
}

/** Well-known header names. Headers are passed through the hub unchanged. */
export const HEADER_TRACEPARENT = 'traceparent';
export const HEADER_TRACESTATE = 'tracestate';
export const HEADER_CORRELATION_ID = 'correlation-id';
