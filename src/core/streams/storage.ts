/**
 * The storage seam of durable streams. The hub talks to a stream's messages only through
 * `StreamStorage`, so the embedded segmented log (src/node/streams/segment-log.ts) is one
 * implementation and a NATS JetStream backed one can be another. Isomorphic: types only.
 */

/** One stored message. `seq` is assigned by the storage: consecutive, starting at 1, never reused. */
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

/** Every limit is optional; a message is dropped as soon as any limit is exceeded. */
export interface RetentionLimits {
  /** Drop messages older than this (now - time > maxAgeMs). */
  maxAgeMs?: number;
  /** Keep at most this many bytes of records (the oldest go first). */
  maxBytes?: number;
  /** Keep at most this many messages (the oldest go first). */
  maxMessages?: number;
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
  /** The first sequence still stored; `lastSeq + 1` when the stream is empty. */
  firstSeq: number;
  /** The last sequence assigned; 0 before the first append. */
  lastSeq: number;
  messages: number;
  /** Bytes of the stored records (framing and checksums included). */
  bytes: number;
  segments: number;
  firstTime?: number;
  lastTime?: number;
}

export interface StreamStorage {
  /**
   * Appends messages in order and resolves with their sequence range once they are as durable as
   * the policy promises. Rejects (StorageError CB_ERR_STORAGE) without using any sequence number
   * when they could not be written.
   */
  append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }>;
  /** Messages from `fromSeq` (or the first stored one, if later) in order; [] past the end. */
  read(fromSeq: number, options?: ReadOptions): Promise<StoredMessage[]>;
  /** The first stored sequence whose time is >= `timeMs`, or undefined if there is none. */
  seqAtTime(timeMs: number): Promise<number | undefined>;
  state(): StorageState;
  /** Drops messages up to and including `upToSeq` (all when omitted); resolves with how many. */
  purge(options?: { upToSeq?: number }): Promise<number>;
  /** Applies the retention limits at `now`; resolves with how many messages were dropped. */
  enforceRetention(now?: number): Promise<number>;
  /** Finishes pending appends, syncs and releases the files. */
  close(): Promise<void>;
}
