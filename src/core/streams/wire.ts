/**
 * The stream operations on the wire. A STREAM frame carries one `StreamOp` as JSON and is answered
 * by OK (JSON result) or ERROR with the same id; `consume` also names the consumer's sid, which
 * its deliveries (MESSAGE frames) carry. Delivery fields: MESSAGE.id is the delivery token,
 * MESSAGE.seq the stream sequence, MESSAGE.timestamp the time the hub stored it, and the
 * `cb-delivery` header the delivery count when it is above 1. See docs/PROTOCOL.md.
 */
import type { ConsumerConfig, ResolvedStreamConfig, StreamConfig } from './config.js';
import type { StorageState } from './storage.js';

export type StreamOp =
  | { op: 'create'; config: StreamConfig }
  | { op: 'update'; config: StreamConfig }
  | { op: 'info'; name: string }
  | { op: 'list' }
  | { op: 'delete'; name: string }
  | { op: 'purge'; name: string; upToSeq?: number }
  | { op: 'read'; name: string; fromSeq?: number; maxMessages?: number; topic?: string }
  | { op: 'delete-message'; name: string; seq: number }
  | { op: 'purge-topic'; name: string; topic: string; keep?: number }
  | { op: 'last'; name: string; topic: string }
  | { op: 'last-per-topic'; name: string; pattern?: string; fromSeq?: number; maxMessages?: number }
  | { op: 'consume'; stream: string; config: ConsumerConfig }
  | { op: 'delete-consumer'; stream: string; durable: string }
  | { op: 'add-consumer'; stream: string; config: ConsumerConfig & { durable: string } };

/** Header of a PUBLISH frame asking for a durable publish (value '1'): answered by OK with the stream ack. */
export const HEADER_DURABLE = 'cb-durable';
/** Header carrying a durable publish's `msgId`. */
export const HEADER_MSG_ID = 'cb-msg-id';
/** Longest `msgId` (UTF-16 code units): the client refuses longer ones at once, the hub again. @default 256 */
export const MAX_MSG_ID_LENGTH = 256;
/**
 * Header of a conditional durable publish: stored only when the newest stored message of its
 * topic has this sequence ('0': the topic holds none), else refused with CB_ERR_SEQ_MISMATCH.
 * A decimal integer >= 0. The compare-and-set of KV buckets.
 */
export const HEADER_EXPECT_LAST_SEQ = 'cb-expect-last-seq';
/** Header of a durable publish's OK when the msgId was a duplicate (value '1'). */
export const HEADER_DUPLICATE = 'cb-duplicate';
/** Header of a redelivered message: how many times it has been delivered, this time included. */
export const HEADER_DELIVERY = 'cb-delivery';
/** Dead letters: why, how many deliveries, and where it came from. */
export const HEADER_DLQ_REASON = 'cb-dlq-reason';
export const HEADER_DLQ_ATTEMPTS = 'cb-dlq-attempts';
export const HEADER_DLQ_STREAM = 'cb-dlq-stream';
export const HEADER_DLQ_SEQ = 'cb-dlq-seq';
export const HEADER_DLQ_TIME = 'cb-dlq-time';

/** The JSON payload of an ACK frame that is not a plain ack (a plain ack carries the 4-byte token as BYTES). */
export interface AckPayload {
  token: number;
  op: 'ack' | 'nak' | 'term' | 'progress';
  delayMs?: number;
  reason?: string;
}

export interface ConsumerInfo {
  durable: string;
  ackFloor: number;
  /** Delivered and not yet settled. */
  pending: number;
  /** Waiting for redelivery. */
  waiting: number;
  members: number;
}

/** A stream's configuration (defaults applied) and state. */
export interface StreamInfo extends ResolvedStreamConfig {
  /** Set on a dead-letter stream ('<NAME>.DLQ'): the stream whose dead letters it holds. */
  deadLetterOf?: string;
  state: Omit<StorageState, 'segments'>;
  consumers: ConsumerInfo[];
  quarantined?: { code: string; message: string };
  /** Message ids the duplicate window holds, and how many it forgot early (see maxDuplicateIds). */
  duplicates?: { remembered: number; forgottenEarly: number };
}

/** One stored message as `read` returns it: payload as base64. */
export interface WireRecord {
  seq: number;
  time: number;
  topic: string;
  headers?: Record<string, string>;
  payloadType: 0 | 1 | 2;
  payload: string;
  msgId?: string;
}

export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}
