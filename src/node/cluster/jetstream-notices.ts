/**
 * How a hub tells the other hubs what it appended to a shared JetStream log: once JetStream
 * acknowledged an append, its sequence, topic, size and time join a batch, and the batch goes out
 * as one core NATS message on the log's notice subject (`$<prefix>.WATCH.<name>.<part>`) when the
 * append resolves (before its client is told), or when it is full, or at the end of the turn. The
 * PubAcks of one read from the socket all join the batch before the first of their appends
 * resolves, so a burst of appends is one notice. The other hubs' LogFollowers
 * (jetstream-watch.ts) tell their hosts of each message from it.
 *
 * Why the appending hub and not JetStream: a stream's `republish` (what crossbus used before)
 * made the NATS servers send one more message for every message they stored, which cost them
 * ~75 % more CPU per stored message (bench/cluster-durable.ts). A notice is one message per turn
 * of the appending hub, whatever it appended in that turn.
 *
 * Notices are at most once, like the republish: a hub may die between its PubAck and its notice,
 * a notice may be lost while NATS reconnects, and several hubs' notices interleave out of sequence
 * order. The follower holds what arrives ahead of a gap for a short grace, then reads the gap from
 * the stream; the periodic stream info shows a tail nobody told of.
 *
 * Wire format, JSON (a few bytes per message; seq and time as differences from the previous entry):
 *   {"v":1,"o":<CB-Origin of the appender>,"t":[topics...],"m":[dSeq,size,dTime,topicIndex, ...]}
 */
import type { NatsConnection } from 'nats';
import type { Logger } from '../../core/util/logger.js';

/** What a follower tells of one stored message. */
export interface Told {
  seq: number;
  topic: string;
  /** What JetStream counts for it (jetstream-codec.ts's recordSize). */
  size: number;
  time: number;
  /** The CB-Origin of the storage that appended it. */
  origin: string | undefined;
}

const VERSION = 1;
/** Most messages one notice tells of. */
const MAX_ENTRIES = 1024;
/** A notice is sent once its estimated size passes this, whatever the turn (well under NATS's 1 MB default max_payload). */
const MAX_BYTES = 64 * 1024;
/** Estimated JSON bytes of one entry's numbers. */
const ENTRY_BYTES = 24;

interface Notice {
  v: number;
  o: string;
  t: string[];
  m: number[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Collects this hub's acknowledged appends to one log and sends them as notices, one per turn. */
export class NoticeSender {
  #topics = new Map<string, number>();
  #entries: number[] = [];
  #lastSeq = 0;
  #lastTime = 0;
  #bytes = 0;
  #scheduled: ReturnType<typeof setImmediate> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly origin: string,
    private readonly logger: Logger,
  ) {}

  /** A message JetStream acknowledged as newly stored. */
  add(seq: number, topic: string, size: number, time: number): void {
    let t = this.#topics.get(topic);
    if (t === undefined) {
      t = this.#topics.size;
      this.#topics.set(topic, t);
      this.#bytes += topic.length + 3;
    }
    this.#entries.push(seq - this.#lastSeq, size, time - this.#lastTime, t);
    this.#lastSeq = seq;
    this.#lastTime = time;
    this.#bytes += ENTRY_BYTES;
    if (this.#entries.length >= MAX_ENTRIES * 4 || this.#bytes >= MAX_BYTES) this.flush();
    else this.#scheduled ??= setImmediate(() => this.flush());
  }

  /** Sends what is collected now (an append that resolves calls it, and close()). */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#entries.length === 0) return;
    const notice: Notice = { v: VERSION, o: this.origin, t: [...this.#topics.keys()], m: this.#entries };
    this.#topics = new Map();
    this.#entries = [];
    this.#lastSeq = 0;
    this.#lastTime = 0;
    this.#bytes = 0;
    try {
      this.nc.publish(this.subject, encoder.encode(JSON.stringify(notice)));
    } catch (err) {
      // Closed or draining: the other hubs read these from the stream when a gap or a stream info shows them.
      this.logger.debug({ subject: this.subject, error: String(err) }, 'stream: an append notice could not be sent');
    }
  }
}

/** The messages one notice tells of, in its order; [] when it is not a notice this version reads. */
export function decodeNotice(data: Uint8Array): Told[] {
  let n: Partial<Notice>;
  try {
    n = JSON.parse(decoder.decode(data)) as Partial<Notice>;
  } catch {
    return [];
  }
  if (typeof n !== 'object' || n === null || n.v !== VERSION || !Array.isArray(n.t) || !Array.isArray(n.m)) return [];
  const { t, m } = n;
  const origin = typeof n.o === 'string' && n.o !== '' ? n.o : undefined;
  const out: Told[] = [];
  let seq = 0;
  let time = 0;
  for (let i = 0; i + 3 < m.length; i += 4) {
    seq += m[i] as number;
    time += m[i + 2] as number;
    const size = m[i + 1] as number;
    const topic = t[m[i + 3] as number];
    if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(size) || !Number.isSafeInteger(time) || typeof topic !== 'string')
      return out; // malformed from here on: the follower reads the rest from the stream
    out.push({ seq, topic, size, time, origin });
  }
  return out;
}
