/**
 * A consumer as the hub serves it, whoever keeps its position: the hub itself (consumer.ts, for
 * every consumer of a log only this hub writes, and for ephemeral ones) or the storage, when a
 * log shared with other hubs keeps durable consumers of its own (JetStream consumers, so that
 * every hub serving one durable consumer shares its position and hands each message out once).
 * The registry and the streams see only this interface.
 */
import type { CrossbusError } from '../errors/index.js';
import { Kind, envelope, type Envelope } from '../protocol/envelope.js';
import type { ConsumerState } from './catalog.js';
import type { ResolvedConsumerConfig } from './config.js';
import type { StoredMessage } from './storage.js';
import { type AckPayload, type ConsumerInfo, HEADER_DELIVERY } from './wire.js';

/** A connection attached to the consumer, under the sid its deliveries carry. */
export interface Member<S = unknown> {
  readonly session: S;
  readonly sid: number;
}

export type SettleResult = 'ok' | 'stale';

/** What a consumer may do with its stream and the hub's connections. */
export interface ConsumerHost<S> {
  now(): number;
  firstSeq(): number;
  lastSeq(): number;
  read(fromSeq: number, maxMessages: number): Promise<StoredMessage[]>;
  /** False when the member's connection cannot take more right now (it is told when it drains). */
  canSend(member: Member<S>): boolean;
  send(member: Member<S>, env: Envelope): void;
  /** Stores a dead letter; rejects when it could not be stored (it is retried later). */
  deadLetter(msg: StoredMessage, reason: string, attempts: number): Promise<void>;
  /** The consumer's state changed: save it (soon; durable consumers only). */
  changed(consumer: ServedConsumer<S>): void;
  /** Reading the log failed (corruption, I/O): the stream decides what happens next. */
  failed(consumer: ServedConsumer<S>, error: CrossbusError): void;
  /** The consumer is gone where it was kept (deleted by another hub): its members end with `error`. */
  ended(consumer: ServedConsumer<S>, error: CrossbusError): void;
}

export interface ServedConsumer<S = unknown> {
  readonly stream: string;
  /** The durable name, or a generated one for an ephemeral consumer. */
  readonly name: string;
  readonly ephemeral: boolean;
  /** The settings in force: a member joining a durable consumer brings its own (the position stays). */
  config: ResolvedConsumerConfig;
  readonly members: Member<S>[];
  /** Messages handed out and not settled yet (here). */
  readonly outstanding: number;
  /** Where it stands, as the catalog saves it. */
  state(): ConsumerState;
  info(): ConsumerInfo;
  addMember(member: Member<S>): void;
  /** Removes a member; what it held goes out again at once (it can no longer settle it). */
  removeMember(session: S, sid: number): boolean;
  /** Settles a delivery named by its token: 'stale' when it is no longer the current delivery. */
  settle(seq: number, ack: AckPayload): SettleResult;
  /** Something changed (new messages, an ack, a member with room): deliver what can go out. */
  pump(): void;
  close(): void;
  /** Creates it where it is kept, at its deliver policy (a consumer the storage keeps). */
  open?(): Promise<void>;
  /** Deletes it where it is kept (a consumer the storage keeps). */
  destroy?(): Promise<void>;
  /** Reads its position and counts afresh where it is kept, for `info()` (a consumer the storage keeps). */
  refresh?(): Promise<void>;
}

/** The first member from `cursor` on (round robin) whose connection has room, or undefined. */
export function nextFreeMember<S>(
  members: readonly Member<S>[],
  cursor: number,
  canSend: (m: Member<S>) => boolean,
): Member<S> | undefined {
  const n = members.length;
  for (let k = 0; k < n; k++) {
    const m = members[(cursor + k) % n] as Member<S>;
    if (canSend(m)) return m;
  }
  return undefined;
}

/** The wait after delivery `deliveries` failed: `backoffMs[deliveries - 1]`, the last entry repeating (none: 0). */
export function backoffDelay(backoffMs: readonly number[], deliveries: number): number {
  return backoffMs.length === 0 ? 0 : (backoffMs[Math.min(deliveries, backoffMs.length) - 1] as number);
}

/** A delivery as the member receives it: its token is the frame id, a redelivery says its count. */
export function deliveryEnvelope(msg: StoredMessage, deliveries: number, token: number, sid: number): Envelope {
  const headers = deliveries > 1 ? { ...msg.headers, [HEADER_DELIVERY]: String(deliveries) } : msg.headers;
  return envelope(Kind.MESSAGE, {
    id: token,
    sid,
    seq: msg.seq,
    timestamp: msg.time,
    topic: msg.topic,
    headers,
    payloadType: msg.payloadType,
    payload: msg.payload,
  });
}

/** Removes member `sid` of `session` from `members`: the one removed, or undefined. */
export function takeMember<S>(members: Member<S>[], session: S, sid: number): Member<S> | undefined {
  const i = members.findIndex((m) => m.session === session && m.sid === sid);
  return i < 0 ? undefined : members.splice(i, 1)[0];
}
