/**
 * The hub's durable streams: it answers STREAM operations, stores the publishes its streams
 * capture (answering durable ones once stored), runs the consumers and settles their ACKs.
 * It reaches connections only through `StreamServiceHost`, which the broker implements, and
 * storage only through a `StreamCatalog`. Isomorphic.
 */
import type { BrokerStreams } from './broker-streams.js';
import { ConfigError, CrossbusError, createError } from '../errors/index.js';
import { Kind, PayloadType, envelope, type Envelope, type Headers } from '../protocol/envelope.js';
import { SubscriptionIndex } from '../routing/subscription-index.js';
import { patternsOverlap } from '../security/policy.js';
import { toBase64 } from '../security/bytes.js';
import { decodeJson, encodeJson } from '../util/json.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { randomHex } from '../util/random.js';
import type { StreamCatalog } from './catalog.js';
import {
  DLQ_SUFFIX, isDeadLetterName, resolveConsumerConfig, resolveStreamConfig, sameStreamConfig, streamNameProblem,
  type ResolvedStreamConfig,
} from './config.js';
import { Consumer, type ConsumerHost, type Member } from './consumer.js';
import type { StoredMessage } from './storage.js';
import { Stream, asCrossbusError, deadLetterConfig } from './stream.js';
import {
  HEADER_DLQ_ATTEMPTS, HEADER_DLQ_REASON, HEADER_DLQ_SEQ, HEADER_DLQ_STREAM, HEADER_DLQ_TIME, HEADER_DUPLICATE, HEADER_DURABLE,
  HEADER_MSG_ID, MAX_MSG_ID_LENGTH, type AckPayload, type StreamInfo, type StreamOp, type WireRecord,
} from './wire.js';

/** What happened to a stream, for metrics, logs and the dashboard. */
export interface StreamEvent {
  action: 'created' | 'deleted' | 'purged' | 'quarantined' | 'dead-letter' | 'storage-error' | 'consumer-deleted';
  stream: string;
  details?: Record<string, unknown>;
}

/** What the service needs from the hub's router, for connections of type S. */
export interface StreamServiceHost<S> {
  /** False when the connection's queue is full enough that deliveries should wait for it to drain. */
  canSend(s: S): boolean;
  send(s: S, env: Envelope): void;
  replyError(s: S, id: number, error: CrossbusError): void;
  /** Access check for a stream operation; refuses (error, audit, strike) and returns false when not allowed. */
  admit(s: S, id: number, action: string, target: string, patterns: readonly string[]): boolean;
  /** The same check without refusing: may `s` see a stream over these patterns? */
  allowed(s: S, patterns: readonly string[]): boolean;
  /** Counts an ACK frame as processed: the client learns it with the next cumulative confirmation. */
  confirmAck(s: S, id: number): void;
  emit(event: StreamEvent): void;
}

export interface StreamServiceOptions {
  catalog: StreamCatalog;
  /** @default silentLogger */
  logger?: Logger;
  /** @default Date.now */
  clock?: () => number;
  /** Longest topic pattern a stream may name. @default 256 */
  maxTopicLength?: number;
  /** Largest frame the hub sends: `read` pages stay below it. @default 1 MiB */
  maxFrameBytes?: number;
  /** How long a durable consumer's changed position may wait before it is saved. @default 100 */
  saveDelayMs?: number;
  /** Streams one hub holds. @default DEFAULT_MAX_STREAMS */
  maxStreams?: number;
  /** Consumers (durable and ephemeral) one stream holds. @default DEFAULT_MAX_CONSUMERS_PER_STREAM */
  maxConsumersPerStream?: number;
  /** How often age retention runs when no message arrives. @default DEFAULT_RETENTION_INTERVAL_MS */
  retentionIntervalMs?: number;
  /**
   * Message ids one stream remembers for de-duplication. Past it, the oldest are forgotten before
   * their `duplicateWindowMs` ends (a retry of one of them is stored again; the hub logs it once
   * per stream and stream info counts them). Bounds the memory of a stream taking many publishes
   * with ids. @default DEFAULT_MAX_DUPLICATE_IDS
   */
  maxDuplicateIds?: number;
}

/** @default 1000 */
export const DEFAULT_MAX_STREAMS = 1000;
/** @default 1000 */
export const DEFAULT_MAX_CONSUMERS_PER_STREAM = 1000;
/** @default 1000 */
export const DEFAULT_RETENTION_INTERVAL_MS = 1000;
/** About 15 MB of ids per stream at most. @default 100_000 */
export const DEFAULT_MAX_DUPLICATE_IDS = 100_000;

/** A durable consumer's position is saved at most this long after it changed. @default 100 */
export const DEFAULT_CONSUMER_SAVE_DELAY_MS = 100;
/** Most messages one `read` returns. @default 1000 */
export const MAX_READ_MESSAGES = 1000;

interface Indexed {
  readonly pattern: string;
  readonly stream: Stream;
}

export class StreamService<S extends object = object> implements BrokerStreams<S> {
  private readonly streams = new Map<string, Stream<S>>();
  private readonly index = new SubscriptionIndex<Indexed>();
  /** Per connection: sid -> the consumer it is a member of. */
  private readonly members = new Map<S, Map<number, Consumer<S>>>();
  private readonly saveTimers = new Map<Consumer<S>, ReturnType<typeof setTimeout>>();
  private readonly saving = new Set<Promise<void>>();
  /** Management operations run one at a time (they await storage between checks and changes). */
  private admin: Promise<unknown> = Promise.resolve();
  private host: StreamServiceHost<S> | undefined;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private closed = false;

  private readonly maxStreams: number;
  private readonly maxConsumers: number;
  private readonly maxDuplicateIds: number;
  /** Streams already warned about forgetting message ids early (once per stream and run). */
  private readonly warnedForgetting = new WeakSet<Stream<S>>();
  private retentionTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly o: StreamServiceOptions) {
    this.logger = o.logger ?? silentLogger;
    this.clock = o.clock ?? Date.now;
    this.maxStreams = countOption('maxStreams', o.maxStreams, DEFAULT_MAX_STREAMS);
    this.maxConsumers = countOption('maxConsumersPerStream', o.maxConsumersPerStream, DEFAULT_MAX_CONSUMERS_PER_STREAM);
    this.maxDuplicateIds = countOption('maxDuplicateIds', o.maxDuplicateIds, DEFAULT_MAX_DUPLICATE_IDS);
    countOption('saveDelayMs', o.saveDelayMs, 0, 0);
    countOption('retentionIntervalMs', o.retentionIntervalMs, 1);
  }

  /** Opens every stored stream; a damaged one is quarantined, the others work. */
  async open(): Promise<void> {
    for (const config of await this.o.catalog.load()) await this.openStream(config);
    // Age limits apply even when nothing is published: check them on a timer too.
    this.retentionTimer = setInterval(() => void this.enforceAges(), this.o.retentionIntervalMs ?? DEFAULT_RETENTION_INTERVAL_MS);
    (this.retentionTimer as { unref?: () => void }).unref?.();
  }

  private async enforceAges(): Promise<void> {
    for (const stream of this.streams.values()) {
      if (stream.config.maxAgeMs === undefined || stream.quarantined !== undefined || stream.storage === undefined) continue;
      try {
        const dropped = await stream.storage.enforceRetention(this.clock());
        if (dropped > 0) for (const c of stream.consumers.values()) c.pump();
      } catch (err) {
        this.logger.warn('stream: age retention failed', { stream: stream.name, error: String(err) });
      }
    }
  }

  /** @internal the broker hands itself over. */
  attach(host: StreamServiceHost<S>): void {
    this.host = host;
  }

  private get h(): StreamServiceHost<S> {
    if (this.host === undefined) throw createError('CB_ERR_INTERNAL', 'stream service is not attached to a broker');
    return this.host;
  }

  names(): string[] {
    return [...this.streams.keys()];
  }

  info(name: string): StreamInfo | undefined {
    return this.find(name)?.info();
  }

  // ------------------------------------------------------------------ publishes

  /**
   * A routed PUBLISH: stored when a stream captures its topic. A durable publish (header
   * cb-durable) is answered once stored: OK with seq and the stream's name as topic, or ERROR.
   */
  capture(s: S, env: Envelope): void {
    const durable = env.headers?.[HEADER_DURABLE] !== undefined;
    const match = this.index.match(env.topic);
    const stream = (match.plain[0] as Indexed | undefined)?.stream as Stream<S> | undefined;
    if (stream === undefined) {
      if (durable) this.h.replyError(s, env.id, createError('CB_ERR_NO_STREAM', `no stream captures ${JSON.stringify(env.topic)}`, { details: { topic: env.topic } }));
      return;
    }
    let headers: Headers | undefined = env.headers;
    const msgId = headers?.[HEADER_MSG_ID];
    if (msgId !== undefined && (msgId.length === 0 || msgId.length > MAX_MSG_ID_LENGTH)) {
      if (durable) this.h.replyError(s, env.id, createError('CB_ERR_INVALID_OPTION', `msgId must be 1 to ${MAX_MSG_ID_LENGTH} characters`, { details: { option: 'msgId' } }));
      return;
    }
    if (headers !== undefined && (durable || msgId !== undefined)) {
      headers = { ...headers };
      delete headers[HEADER_DURABLE];
      delete headers[HEADER_MSG_ID];
      if (Object.keys(headers).length === 0) headers = undefined;
    }
    const input = { time: this.clock(), topic: env.topic, headers, payloadType: env.payloadType as 0 | 1 | 2, payload: env.payload, msgId };
    if (msgId === undefined) delete input.msgId;
    if (headers === undefined) delete input.headers;
    const id = env.id;
    stream.append(input, this.clock).then(
      (r) => {
        if (stream.dedupe.forgottenEarly > 0 && !this.warnedForgetting.has(stream)) {
          this.warnedForgetting.add(stream);
          this.logger.warn('stream: message ids are forgotten before their duplicate window ends; a retry of one is stored again (raise maxDuplicateIds or shorten duplicateWindowMs)', {
            stream: stream.name, maxDuplicateIds: this.maxDuplicateIds, duplicateWindowMs: stream.config.duplicateWindowMs,
          });
        }
        if (durable) {
          this.h.send(s, envelope(Kind.OK, { id, seq: r.seq, topic: stream.name, headers: r.duplicate ? { [HEADER_DUPLICATE]: '1' } : undefined }));
        }
      },
      (err: unknown) => {
        const error = asCrossbusError(err);
        if (error.code === 'CB_ERR_STORAGE') this.h.emit({ action: 'storage-error', stream: stream.name, details: { code: error.code, message: error.message } });
        if (durable) this.h.replyError(s, id, error);
        else this.logger.warn('stream: could not store a captured message', { stream: stream.name, code: error.code });
      },
    );
  }

  // ------------------------------------------------------------------ STREAM operations

  onOperation(s: S, env: Envelope): void {
    let op: StreamOp;
    try {
      op = decodeJson(env.payload) as StreamOp;
      if (typeof op !== 'object' || op === null || typeof op.op !== 'string') throw new Error('not an operation');
    } catch (cause) {
      this.h.replyError(s, env.id, createError('CB_ERR_PROTOCOL', 'a STREAM frame carries a JSON operation', { cause }));
      return;
    }
    const id = env.id;
    const run = async (): Promise<unknown> => {
      switch (op.op) {
        case 'create': return this.create(s, id, op.config);
        case 'info': return this.access(s, id, 'stream.info', op.name).info();
        case 'list': return [...this.streams.values()].filter((x) => this.visible(s, x)).flatMap((x) => (x.deadLetters ? [x.info(), x.deadLetters.info()] : [x.info()]));
        case 'delete': return this.remove(s, id, op.name);
        case 'purge': return this.purge(s, id, op.name, op.upToSeq);
        case 'read': return this.read(s, id, op.name, op.fromSeq, op.maxMessages);
        case 'consume': return this.consume(s, id, env.sid, op.stream, op.config);
        case 'delete-consumer': return this.deleteConsumer(s, id, op.stream, op.durable);
        default: throw createError('CB_ERR_PROTOCOL', `unknown stream operation ${JSON.stringify((op as { op: unknown }).op)}`);
      }
    };
    const serial = op.op === 'create' || op.op === 'delete' || op.op === 'consume' || op.op === 'delete-consumer' || op.op === 'purge';
    const done = serial ? this.exclusive(run) : run();
    done.then(
      (result) => {
        this.h.send(s, envelope(Kind.OK, { id, sid: env.sid, payloadType: PayloadType.JSON, payload: encodeJson(result ?? null) }));
      },
      (err: unknown) => {
        if (err !== REFUSED) this.h.replyError(s, id, asCrossbusError(err));
      },
    );
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.admin.then(fn, fn);
    this.admin = run.catch(() => {});
    return run;
  }

  private find(name: string): Stream<S> | undefined {
    if (isDeadLetterName(name)) return this.streams.get(name.slice(0, -DLQ_SUFFIX.length))?.deadLetters;
    return this.streams.get(name);
  }

  /** The topics whose grants decide access to a stream (a dead-letter stream: its source's). */
  private topicsOf(stream: Stream<S>): readonly string[] {
    return stream.deadLetterOf === undefined ? stream.config.topics : (this.streams.get(stream.deadLetterOf)?.config.topics ?? []);
  }

  private visible(s: S, stream: Stream<S>): boolean {
    return this.h.allowed(s, this.topicsOf(stream));
  }

  /** The stream, after the access check (throws CB_ERR_STREAM_NOT_FOUND, or REFUSED once the refusal is sent). */
  private access(s: S, id: number, action: string, name: unknown): Stream<S> {
    const problem = streamNameProblem(name);
    if (problem !== undefined) throw createError('CB_ERR_INVALID_OPTION', `stream name ${problem}`, { details: { option: 'name' } });
    const stream = this.find(name as string);
    if (stream === undefined) throw createError('CB_ERR_STREAM_NOT_FOUND', `no stream named ${JSON.stringify(name)}`, { details: { stream: name } });
    if (!this.h.admit(s, id, action, name as string, this.topicsOf(stream))) throw REFUSED;
    return stream;
  }

  private async create(s: S, id: number, input: unknown): Promise<StreamInfo> {
    const config = resolveStreamConfig(input, this.o.maxTopicLength);
    if (!this.h.admit(s, id, 'stream.create', config.name, config.topics)) throw REFUSED;
    const existing = this.streams.get(config.name);
    if (existing !== undefined) {
      if (sameStreamConfig(existing.config, config)) return existing.info();
      throw createError('CB_ERR_STREAM_EXISTS', `stream ${config.name} exists with a different configuration`, { details: { stream: config.name } });
    }
    if (this.streams.size >= this.maxStreams) {
      throw createError('CB_ERR_STREAM_LIMIT', `the hub holds its maximum of ${this.maxStreams} streams`, { details: { limit: this.maxStreams } });
    }
    for (const other of this.streams.values()) {
      for (const a of config.topics) {
        const b = other.config.topics.find((t) => patternsOverlap(a, t));
        if (b !== undefined) {
          throw createError('CB_ERR_STREAM_EXISTS', `topic pattern ${a} overlaps ${b} of stream ${other.name}`, { details: { stream: other.name, pattern: a, overlaps: b } });
        }
      }
    }
    await this.o.catalog.saveStream(config);
    const stream = await this.openStream(config);
    this.h.emit({ action: 'created', stream: config.name, details: { topics: config.topics } });
    return stream.info();
  }

  private async openStream(config: ResolvedStreamConfig): Promise<Stream<S>> {
    const stream = new Stream<S>(config, undefined, this.maxDuplicateIds);
    const dlq = new Stream<S>(deadLetterConfig(config), config.name);
    stream.deadLetters = dlq;
    this.streams.set(config.name, stream);
    for (const topic of config.topics) this.index.add({ pattern: topic, stream });
    try {
      stream.storage = await this.o.catalog.openStorage(config, 'log');
      dlq.storage = await this.o.catalog.openStorage(config, 'dlq');
      await stream.rebuildDuplicateWindow(this.clock());
      for (const x of [stream, dlq]) {
        for (const stored of await this.o.catalog.loadConsumers(x.name)) {
          const c = new Consumer<S>(x.name, stored.config.durable, false, stored.config, stored.state, this.consumerHost(x));
          x.consumers.set(c.name, c);
        }
      }
    } catch (err) {
      this.quarantine(stream, asCrossbusError(err));
    }
    return stream;
  }

  private quarantine(stream: Stream<S>, error: CrossbusError): void {
    if (stream.quarantined !== undefined) return;
    stream.quarantined = error;
    if (stream.deadLetters) stream.deadLetters.quarantined = error;
    this.logger.error('stream quarantined: its data is damaged; other streams keep working', { stream: stream.name, code: error.code, message: error.message });
    this.host?.emit({ action: 'quarantined', stream: stream.name, details: { code: error.code, message: error.message } });
    const ended = createError('CB_ERR_STREAM_QUARANTINED', `stream ${stream.name} is quarantined: ${error.message}`, { details: { stream: stream.name } });
    for (const x of [stream, stream.deadLetters]) {
      for (const c of x?.consumers.values() ?? []) this.endConsumer(c, ended);
    }
  }

  /** Ends a consumer's members with an error (the client's consumer fails with it). */
  private endConsumer(c: Consumer<S>, error: CrossbusError): void {
    c.close();
    for (const m of [...c.members]) {
      this.members.get(m.session)?.delete(m.sid);
      this.host?.replyError(m.session, 0, createError(error.code, error.message, { details: { ...error.details, sid: m.sid } }));
    }
    c.members.length = 0;
  }

  private async remove(s: S, id: number, name: unknown): Promise<{ deleted: true }> {
    const stream = this.access(s, id, 'stream.delete', name);
    if (stream.deadLetterOf !== undefined) {
      throw createError('CB_ERR_INVALID_OPTION', `${stream.name} is a dead-letter stream: delete ${stream.deadLetterOf}, or purge it`, { details: { option: 'name' } });
    }
    const gone = createError('CB_ERR_STREAM_NOT_FOUND', `stream ${stream.name} was deleted`, { details: { stream: stream.name } });
    for (const x of [stream, stream.deadLetters]) {
      for (const c of x?.consumers.values() ?? []) {
        this.endConsumer(c, gone);
        this.cancelSave(c);
      }
    }
    this.streams.delete(stream.name);
    for (const topic of stream.config.topics) this.index.remove(this.indexEntry(stream, topic));
    await stream.close().catch(() => {});
    await this.o.catalog.deleteStream(stream.name);
    this.h.emit({ action: 'deleted', stream: stream.name });
    return { deleted: true };
  }

  private indexEntry(stream: Stream<S>, topic: string): Indexed {
    // The index keeps the entries it was given: find ours again to remove it.
    const entry = this.index.match(topic).plain.find((e) => e.stream === stream && e.pattern === topic);
    return entry ?? { pattern: topic, stream };
  }

  private async purge(s: S, id: number, name: unknown, upToSeq: unknown): Promise<{ purged: number }> {
    const stream = this.access(s, id, 'stream.purge', name);
    if (upToSeq !== undefined && (!Number.isSafeInteger(upToSeq) || (upToSeq as number) < 0)) {
      throw createError('CB_ERR_INVALID_OPTION', 'upToSeq must be an integer >= 0', { details: { option: 'upToSeq' } });
    }
    const purged = await stream.usable().purge(upToSeq === undefined ? {} : { upToSeq: upToSeq as number });
    if (upToSeq === undefined) stream.dedupe.clear();
    for (const c of stream.consumers.values()) c.pump();
    this.h.emit({ action: 'purged', stream: stream.name, details: { purged } });
    return { purged };
  }

  private async read(s: S, id: number, name: unknown, fromSeq: unknown, maxMessages: unknown): Promise<{ messages: WireRecord[] }> {
    const stream = this.access(s, id, 'stream.read', name);
    const from = fromSeq ?? 1;
    const max = maxMessages ?? MAX_READ_MESSAGES;
    if (!Number.isSafeInteger(from) || (from as number) < 0) throw createError('CB_ERR_INVALID_OPTION', 'fromSeq must be an integer >= 0', { details: { option: 'fromSeq' } });
    if (!Number.isSafeInteger(max) || (max as number) < 1 || (max as number) > MAX_READ_MESSAGES) {
      throw createError('CB_ERR_INVALID_OPTION', `maxMessages must be an integer from 1 to ${MAX_READ_MESSAGES}`, { details: { option: 'maxMessages' } });
    }
    // base64 grows 4/3: a page's record bytes stay well below the frame limit.
    const maxBytes = Math.floor((this.o.maxFrameBytes ?? 1024 * 1024) / 2);
    const page = await stream.usable().read(from as number, { maxMessages: max as number, maxBytes });
    return { messages: page.map(toWire) };
  }

  // ------------------------------------------------------------------ consumers

  private async consume(s: S, id: number, sid: number, name: unknown, input: unknown): Promise<StreamInfo['consumers'][number] & { stream: string }> {
    if (!Number.isSafeInteger(sid) || sid === 0) throw createError('CB_ERR_PROTOCOL', 'consume needs a non-zero sid');
    const config = resolveConsumerConfig(input);
    const stream = this.access(s, id, 'stream.consume', name);
    stream.usable();
    let bySid = this.members.get(s);
    if (bySid?.has(sid)) throw createError('CB_ERR_PROTOCOL', `sid ${sid} is already in use on this connection`, { details: { sid } });
    let c = config.durable === undefined ? undefined : stream.consumers.get(config.durable);
    if (c === undefined) {
      if (stream.consumers.size >= this.maxConsumers) {
        throw createError('CB_ERR_STREAM_LIMIT', `stream ${stream.name} holds its maximum of ${this.maxConsumers} consumers`, { details: { limit: this.maxConsumers, stream: stream.name } });
      }
      const state = await stream.startState(config.deliver);
      const durable = config.durable;
      c = new Consumer<S>(stream.name, durable ?? `_eph-${randomHex(8)}`, durable === undefined, config, state, this.consumerHost(stream));
      stream.consumers.set(c.name, c);
      if (durable !== undefined) await this.save(stream, c);
    } else {
      // A member joining a durable consumer brings the settings in force from now on; the position stays.
      c.config = { ...config, deliver: c.config.deliver };
      this.scheduleSave(stream, c);
    }
    if (bySid === undefined) this.members.set(s, (bySid = new Map()));
    bySid.set(sid, c);
    c.addMember({ session: s, sid });
    return { stream: stream.name, ...c.info() };
  }

  private async deleteConsumer(s: S, id: number, name: unknown, durable: unknown): Promise<{ deleted: true }> {
    const stream = this.access(s, id, 'stream.consumer.delete', name);
    const c = typeof durable === 'string' ? stream.consumers.get(durable) : undefined;
    if (c === undefined || c.ephemeral) throw createError('CB_ERR_CONSUMER_NOT_FOUND', `stream ${stream.name} has no consumer ${JSON.stringify(durable)}`, { details: { stream: stream.name, durable } });
    this.endConsumer(c, createError('CB_ERR_CONSUMER_NOT_FOUND', `consumer ${c.name} was deleted`, { details: { stream: stream.name, durable: c.name } }));
    this.cancelSave(c);
    stream.consumers.delete(c.name);
    await this.o.catalog.deleteConsumer(stream.name, c.name);
    this.h.emit({ action: 'consumer-deleted', stream: stream.name, details: { durable: c.name } });
    return { deleted: true };
  }

  /** Whether `sid` on `s` is a consumer (the broker asks before treating an UNSUBSCRIBE as unknown). */
  hasMember(s: S, sid: number): boolean {
    return this.members.get(s)?.has(sid) === true;
  }

  /** A member leaves (UNSUBSCRIBE of its sid): what it held goes out again at once. */
  leave(s: S, sid: number): void {
    const c = this.members.get(s)?.get(sid);
    if (c === undefined) return;
    this.members.get(s)?.delete(sid);
    c.removeMember(s, sid);
    this.dropIfIdle(c);
  }

  /** A connection closed: it leaves every consumer it was a member of. */
  sessionClosed(s: S): void {
    const bySid = this.members.get(s);
    if (bySid === undefined) return;
    this.members.delete(s);
    for (const [sid, c] of bySid) {
      c.removeMember(s, sid);
      this.dropIfIdle(c);
    }
  }

  /** The connection's queue went out: consumers waiting for room on it go on. */
  drained(s: S): void {
    const bySid = this.members.get(s);
    if (bySid === undefined) return;
    for (const c of bySid.values()) c.pump();
  }

  private dropIfIdle(c: Consumer<S>): void {
    if (!c.ephemeral || c.members.length > 0) return;
    c.close();
    this.find(c.stream)?.consumers.delete(c.name);
  }

  /** An ACK frame: settles one delivery, or refuses a stale one with CB_ERR_ACK_STALE. */
  onAck(s: S, env: Envelope): void {
    const c = this.members.get(s)?.get(env.sid);
    let ack: AckPayload | undefined;
    if (env.payloadType === PayloadType.BYTES && env.payload.length === 4) {
      const p = env.payload;
      ack = { op: 'ack', token: ((p[0] as number) * 0x1000000) + (((p[1] as number) << 16) | ((p[2] as number) << 8) | (p[3] as number)) };
    } else if (env.payloadType === PayloadType.JSON) {
      try {
        ack = decodeJson(env.payload) as AckPayload;
      } catch {
        ack = undefined;
      }
    }
    if (ack === undefined || !validAck(ack)) {
      this.h.replyError(s, env.id, createError('CB_ERR_PROTOCOL', 'an ACK carries a 4-byte token or a JSON { token, op }', { details: { sid: env.sid, seq: env.seq } }));
    } else if (c === undefined || c.settle(env.seq, ack) === 'stale') {
      this.h.replyError(s, env.id, createError('CB_ERR_ACK_STALE', c === undefined
        ? `no consumer with sid ${env.sid} on this connection`
        : `the delivery of ${env.seq} you ${ack.op === 'ack' ? 'acknowledged' : `${ack.op}ed`} was given out again or already settled`, {
        details: { sid: env.sid, seq: env.seq, op: ack.op },
      }));
    }
    this.h.confirmAck(s, env.id);
  }

  private consumerHost(stream: Stream<S>): ConsumerHost<S> {
    return {
      now: this.clock,
      firstSeq: () => stream.storage?.state().firstSeq ?? 1,
      lastSeq: () => stream.storage?.state().lastSeq ?? 0,
      read: (from, max) => stream.usable().read(from, { maxMessages: max }),
      canSend: (m: Member<S>) => this.h.canSend(m.session),
      send: (m: Member<S>, env: Envelope) => this.h.send(m.session, env),
      deadLetter: (msg, reason, attempts) => this.deadLetter(stream, msg, reason, attempts),
      changed: (c) => this.scheduleSave(stream, c),
      failed: (c, error) => {
        if (error.code === 'CB_ERR_STREAM_CORRUPT') this.quarantine(this.streams.get(stream.deadLetterOf ?? stream.name) ?? stream, error);
        else {
          this.logger.warn('stream consumer: reading the log failed; retrying', { stream: stream.name, consumer: c.name, code: error.code });
          const t = setTimeout(() => c.pump(), 1_000);
          (t as { unref?: () => void }).unref?.();
        }
      },
    };
  }

  private async deadLetter(stream: Stream<S>, msg: StoredMessage, reason: string, attempts: number): Promise<void> {
    const dlq = stream.deadLetters;
    if (dlq === undefined) {
      // A dead letter of a dead letter: it has nowhere else to go, so it is settled and reported.
      this.h.emit({ action: 'dead-letter', stream: stream.name, details: { seq: msg.seq, reason, attempts, dropped: true } });
      return;
    }
    const headers: Headers = {
      ...msg.headers, [HEADER_DLQ_REASON]: reason, [HEADER_DLQ_ATTEMPTS]: String(attempts), [HEADER_DLQ_STREAM]: stream.name,
      [HEADER_DLQ_SEQ]: String(msg.seq), [HEADER_DLQ_TIME]: String(msg.time),
    };
    const r = await dlq.append({ time: this.clock(), topic: msg.topic, headers, payloadType: msg.payloadType, payload: msg.payload }, this.clock);
    this.h.emit({ action: 'dead-letter', stream: stream.name, details: { seq: msg.seq, reason, attempts, deadLetterSeq: r.seq } });
  }

  // ------------------------------------------------------------------ saving positions

  private scheduleSave(stream: Stream<S>, c: Consumer<S>): void {
    if (c.ephemeral || this.saveTimers.has(c) || this.closed) return;
    const t = setTimeout(() => {
      this.saveTimers.delete(c);
      void this.save(stream, c);
    }, this.o.saveDelayMs ?? DEFAULT_CONSUMER_SAVE_DELAY_MS);
    this.saveTimers.set(c, t);
  }

  private cancelSave(c: Consumer<S>): void {
    const t = this.saveTimers.get(c);
    if (t !== undefined) clearTimeout(t);
    this.saveTimers.delete(c);
  }

  private save(stream: Stream<S>, c: Consumer<S>): Promise<void> {
    const p = this.o.catalog.saveConsumer(stream.name, stream.storedConsumer(c)).catch((err: unknown) => {
      this.logger.error('stream consumer: could not save its position (it will redeliver from the last saved one)', {
        stream: stream.name, consumer: c.name, error: String(err),
      });
    });
    this.saving.add(p);
    void p.finally(() => this.saving.delete(p));
    return p;
  }

  /** Saves every durable consumer's position and closes the logs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    await this.admin.catch(() => {});
    for (const t of this.saveTimers.values()) clearTimeout(t);
    this.saveTimers.clear();
    for (const stream of this.streams.values()) {
      for (const x of [stream, stream.deadLetters]) {
        if (x === undefined || x.quarantined !== undefined) continue;
        for (const c of x.consumers.values()) if (!c.ephemeral) void this.save(x, c);
      }
    }
    await Promise.all([...this.saving]);
    for (const stream of this.streams.values()) await stream.close().catch(() => {});
  }
}

/** Thrown by an operation refused by the access check: the refusal is already sent. */
const REFUSED = Object.freeze({ refused: true });

function countOption(name: string, value: number | undefined, def: number, min = 1): number {
  if (value === undefined) return def;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${name} must be an integer >= ${min}, got ${String(value)}`, { details: { option: name } });
  }
  return value;
}

function validAck(a: AckPayload): boolean {
  if (typeof a !== 'object' || a === null || !Number.isSafeInteger(a.token) || a.token < 0 || a.token > 0xffff_ffff) return false;
  if (a.op !== 'ack' && a.op !== 'nak' && a.op !== 'term' && a.op !== 'progress') return false;
  if (a.delayMs !== undefined && (!Number.isSafeInteger(a.delayMs) || a.delayMs < 0 || a.delayMs > 86_400_000)) return false;
  return a.reason === undefined || (typeof a.reason === 'string' && a.reason.length <= 1024);
}

function toWire(m: StoredMessage): WireRecord {
  const r: WireRecord = { seq: m.seq, time: m.time, topic: m.topic, payloadType: m.payloadType, payload: toBase64(m.payload) };
  if (m.headers !== undefined) r.headers = m.headers;
  if (m.msgId !== undefined) r.msgId = m.msgId;
  return r;
}
