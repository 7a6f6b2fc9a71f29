/**
 * The storage seam of durable streams. The hub talks to a stream's messages only through
 * `StreamStorage`, so the embedded segmented log (src/node/streams/segment-log.ts) is one
 * implementation and a NATS JetStream backed one can be another. Isomorphic: types only.
 */
import type { ConsumerState } from './catalog.js';
import type { ResolvedConsumerConfig } from './config.js';
import type { ConsumerHost, ServedConsumer } from './served-consumer.js';

/**
 * One stored message. `seq` is assigned by the storage: consecutive at append, starting at 1,
 * never reused and never renumbered; messages deleted from the middle of the log leave gaps.
 */
export interface StoredMessage {
  seq: number;
  /** Milliseconds since the epoch. Never lower than the previous message's time (see `append`). */
  time: number;
  topic: string;
  headers?: Record<string, string>;
  /** 0 none, 1 JSON, 2 bytes (the protocol's PayloadType). */
  payloadType: 0 | 1 | 2;
  payload: Uint8Array;
  /** Publisher-chosen id, kept for de-duplication. */
  msgId?: string;
}

/** A message to append: everything but the sequence number, which the storage assigns. */
export type AppendInput = Omit<StoredMessage, 'seq'>;

/**
 * Every limit is optional; a message is dropped as soon as any limit is exceeded. The counts and
 * sizes are those of the messages still stored (deleted ones do not count).
 */
export interface RetentionLimits {
  /** Drop messages older than this (now - time > maxAgeMs). */
  maxAgeMs?: number;
  /** Keep at most this many bytes of records (the oldest go first). */
  maxBytes?: number;
  /** Keep at most this many messages (the oldest go first). */
  maxMessages?: number;
  /**
   * Keep at most this many messages per topic (exact topic): an append to a topic that already
   * holds this many deletes that topic's oldest, wherever it sits in the log, before the append
   * resolves. Unset: no limit, and no per-topic bookkeeping on the append path.
   */
  maxMessagesPerTopic?: number;
}

/**
 * When an append is acknowledged. `fsync`: after the bytes are on stable storage (group commit
 * shares one fsync between concurrent appends). `interval`: after write(2), with an fsync every
 * few hundred milliseconds, so a power loss or kernel crash can lose the last interval (a process
 * crash loses nothing: the kernel already holds the bytes).
 */
export type DurabilityPolicy = 'fsync' | 'interval';

export interface ReadOptions {
  /** Most messages returned by one read. */
  maxMessages?: number;
  /** Most record bytes returned by one read; at least one message is returned whatever its size. */
  maxBytes?: number;
}

export interface StorageState {
  /** The first sequence still stored (not deleted); `lastSeq + 1` when the stream is empty. */
  firstSeq: number;
  /** The last sequence assigned, even when that message was deleted since; 0 before the first append. */
  lastSeq: number;
  /** Messages still stored; with deletes inside the log this is less than `lastSeq - firstSeq + 1`. */
  messages: number;
  /** Bytes of the records still stored (framing and checksums included; deleted ones not counted). */
  bytes: number;
  segments: number;
  firstTime?: number;
  lastTime?: number;
}

export interface StreamStorage {
  /**
   * Appends messages in order and resolves with their sequence range once they are as durable as
   * the policy promises: the first's and the last's sequence (on a log other writers share, their
   * messages may fall in between; the hub itself appends one message at a time). Rejects
   * (StorageError CB_ERR_STORAGE) without using any sequence number when they could not be written.
   */
  append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }>;
  /**
   * Stored messages from `fromSeq` (or the first stored one, if later) in sequence order, deleted
   * ones skipped (so the seqs of a page may have gaps); [] past the end.
   */
  read(fromSeq: number, options?: ReadOptions): Promise<StoredMessage[]>;
  /** The first stored (not deleted) sequence whose time is >= `timeMs`, or undefined if there is none. */
  seqAtTime(timeMs: number): Promise<number | undefined>;
  state(): StorageState;
  /** Drops messages up to and including `upToSeq` (all when omitted); resolves with how many were stored. */
  purge(options?: { upToSeq?: number }): Promise<number>;
  /**
   * Deletes one message from anywhere in the log. Resolves true when it was stored, false when it
   * was not (not a sequence that was assigned, dropped, or deleted already). Once it resolves true the delete is as
   * durable as an append under the policy, and no read returns the message again. The sequence
   * number is never reused. Rejects (StorageError CB_ERR_STORAGE) when the delete could not be
   * recorded; the message is then still stored.
   */
  deleteMessage(seq: number): Promise<boolean>;
  /**
   * Deletes the stored messages of one topic (an exact topic, not a pattern), except its newest
   * `keep` (default 0: all of them). Resolves with how many were deleted, durably as
   * `deleteMessage`. Rejects with CB_ERR_INVALID_OPTION when `topic` is not a string or `keep`
   * not an integer >= 0, and with CB_ERR_STORAGE when the deletes could not be recorded (in the
   * file log, those already recorded in other segments stay deleted).
   */
  purgeTopic(topic: string, options?: { keep?: number }): Promise<number>;
  /**
   * The newest stored message of one topic (exact), or undefined when the topic holds none: a
   * lookup in a per-topic index, not a scan. The index is kept from the start when
   * `maxMessagesPerTopic` is set; otherwise it is built by the first call to this method or to
   * `purgeTopic` (one pass over the log) and kept up to date from then on.
   */
  lastForTopic(topic: string): Promise<StoredMessage | undefined>;
  /**
   * The newest stored sequence of every topic that holds a message (a copy), from the same
   * per-topic index as `lastForTopic` (built by the first call when the log did not keep one).
   */
  topicHeads(): Promise<Map<string, number>>;
  /** The stored sequences of one topic (exact), oldest first, from the same per-topic index. */
  topicSeqs(topic: string): Promise<number[]>;
  /**
   * Applies the retention limits by age, bytes and count at `now`; resolves with how many messages
   * were dropped. (The per-topic limit holds after every append, and is applied when the storage
   * is opened with it.)
   */
  enforceRetention(now?: number): Promise<number>;
  /**
   * Appends one message only if the newest stored message of its topic has sequence
   * `expectedTopicSeq` (0: the topic holds none), checked and stored in one step by the storage
   * itself, so that the check holds against every writer of a shared log (other hubs). Rejects with
   * CB_ERR_SEQ_MISMATCH otherwise. A log only this hub writes to has no such method: the stream
   * checks and appends in order itself (append-gate.ts).
   */
  appendIfLast?(msg: AppendInput, expectedTopicSeq: number): Promise<{ seq: number }>;
  /**
   * For a log other writers append to as well (other hubs sharing a JetStream stream): calls
   * `listener` for each message they append, in sequence order, once `state()` counts it, so the
   * stream's consumers wake up for it. Returns the function that stops the calls. A log only this
   * hub writes to has no such method: the stream learns of its appends from `append`.
   */
  watch?(listener: (topic: string, seq: number) => void): () => void;
  /**
   * For a log shared with other hubs: a durable consumer the storage keeps itself (its position,
   * who holds which message, redeliveries), so that every hub serving it hands each message out
   * once. `saved` is what the catalog holds for it (where to start if the storage has none yet).
   * A log only this hub uses has no such method: the hub's own Consumer serves durable consumers.
   */
  durableConsumer?<S>(name: string, config: ResolvedConsumerConfig, saved: ConsumerState, host: ConsumerHost<S>): ServedConsumer<S>;
  /** Finishes pending appends, syncs and releases the files. */
  close(): Promise<void>;
}
