/**
 * STREAM operations (a STREAM frame carries one as JSON): create, update, info, list, delete,
 * purge and read a stream, delete one message, purge one topic, read a topic's last message
 * (the reads are in stream-reads.ts), read the last message of every topic,
 * consume, add-consumer and delete-consumer. Each is access-checked with the stream's topics
 * (a dead-letter stream: its source's) and answered with OK (JSON) or ERROR. Those that change
 * what the hub holds run one at a time: they await storage between their checks and changes.
 */
import { createError } from '../errors/index.js';
import { Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import { patternsOverlap } from '../security/policy.js';
import { decodeJson, encodeJson } from '../util/json.js';
import type { StreamCatalog } from './catalog.js';
import { resolveConsumerConfig, resolveStreamConfig, sameStreamConfig, streamNameProblem, type ResolvedStreamConfig } from './config.js';
import type { ConsumerPositions } from './consumer-positions.js';
import type { ConsumerRegistry } from './consumer-registry.js';
import type { HostLink } from './host-link.js';
import { checkExactTopic, checkKeep, checkSeq } from './topic-index.js';
import { type Stream, asCrossbusError } from './stream.js';
import { lastOfTopic, lastPerTopic, readPage, readTopic, type ReadLimits } from './stream-reads.js';
import type { StreamLoader } from './stream-loader.js';
import type { StreamTable } from './stream-table.js';
import type { StreamInfo, StreamOp, WireRecord } from './wire.js';

export { MAX_READ_MESSAGES } from './stream-reads.js';

export interface StreamAdminParts<S> {
  table: StreamTable<S>;
  host: HostLink<S>;
  catalog: StreamCatalog;
  loader: StreamLoader<S>;
  consumers: ConsumerRegistry<S>;
  positions: ConsumerPositions<S>;
  /** Streams one hub holds. */
  maxStreams: number;
  /** Longest topic pattern a stream may name (undefined: the config's own default). */
  maxTopicLength: number | undefined;
  /** Largest frame the hub sends: `read` pages stay below it. */
  maxFrameBytes: number;
  clock: () => number;
  /** With a catalog shared with other hubs: reads it again before an operation on a stream not held here. */
  lookup?: { readonly current: (() => Promise<void>) | undefined };
}

/** The stream an operation names, if any. */
function streamNamed(op: StreamOp): string | undefined {
  const o = op as { name?: unknown; stream?: unknown; config?: { name?: unknown } };
  const named = o.name ?? o.stream ?? (op.op === 'create' || op.op === 'update' ? o.config?.name : undefined);
  return typeof named === 'string' ? named : undefined;
}

/** Thrown by an operation refused by the access check: the refusal is already sent. */
const REFUSED = Object.freeze({ refused: true });

export class StreamAdmin<S> {
  readonly #p: StreamAdminParts<S>;
  /** The operations that change what the hub holds, chained: each starts when the one before ended. */
  #serial: Promise<unknown> = Promise.resolve();

  constructor(parts: StreamAdminParts<S>) {
    this.#p = parts;
  }

  /** A STREAM frame: runs its operation and answers it. */
  onOperation(s: S, env: Envelope): void {
    const host = this.#p.host;
    let op: StreamOp;
    try {
      op = decodeJson(env.payload) as StreamOp;
      if (typeof op !== 'object' || op === null || typeof op.op !== 'string') throw new Error('not an operation');
    } catch (cause) {
      host.get().replyError(s, env.id, createError('CB_ERR_PROTOCOL', 'a STREAM frame carries a JSON operation', { cause }));
      return;
    }
    const id = env.id;
    const run = async (): Promise<unknown> => {
      // A catalog shared with other hubs may hold a stream this hub has not opened yet.
      const lookup = this.#p.lookup?.current;
      if (lookup !== undefined) {
        const named = streamNamed(op);
        if (named !== undefined && this.#p.table.get(named) === undefined) await lookup();
      }
      switch (op.op) {
        case 'create':
          return this.#create(s, id, op.config);
        case 'update':
          return this.#update(s, id, op.config);
        case 'info': {
          const stream = this.#access(s, id, 'stream.info', op.name);
          await this.#p.consumers.refresh(stream);
          return stream.info();
        }
        case 'list':
          return this.#list(s);
        case 'delete':
          return this.#remove(s, id, op.name);
        case 'purge':
          return this.#purge(s, id, op.name, op.upToSeq);
        case 'read':
          return this.#read(s, id, op.name, op.fromSeq, op.maxMessages, op.topic);
        case 'delete-message':
          return this.#deleteMessage(s, id, op.name, op.seq);
        case 'purge-topic':
          return this.#purgeTopic(s, id, op.name, op.topic, op.keep);
        case 'last':
          return this.#last(s, id, op.name, op.topic);
        case 'last-per-topic':
          return {
            messages: await lastPerTopic(
              this.#access(s, id, 'stream.read', op.name),
              op.pattern,
              op.fromSeq,
              op.maxMessages,
              this.#limits(),
            ),
          };
        case 'consume':
          return this.#consume(s, id, env.sid, op.stream, op.config);
        case 'add-consumer':
          return this.#p.consumers.addDurable(this.#access(s, id, 'stream.consumer.create', op.stream), resolveConsumerConfig(op.config));
        case 'delete-consumer':
          return this.#p.consumers.deleteDurable(this.#access(s, id, 'stream.consumer.delete', op.stream), op.durable);
        default:
          throw createError('CB_ERR_PROTOCOL', `unknown stream operation ${JSON.stringify((op as { op: unknown }).op)}`);
      }
    };
    const serial = op.op !== 'info' && op.op !== 'list' && op.op !== 'read' && op.op !== 'last' && op.op !== 'last-per-topic';
    const done = serial ? this.#exclusive(run) : run();
    done.then(
      (result) => {
        host.get().send(s, envelope(Kind.OK, { id, sid: env.sid, payloadType: PayloadType.JSON, payload: encodeJson(result ?? null) }));
      },
      (err: unknown) => {
        if (err !== REFUSED) host.get().replyError(s, id, asCrossbusError(err));
      },
    );
  }

  /** Resolves once the operations that change what the hub holds have ended (the service is closing). */
  idle(): Promise<void> {
    return this.#serial.then(
      () => {},
      () => {},
    );
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => {});
    return run;
  }

  /** The stream, after the access check (throws CB_ERR_STREAM_NOT_FOUND, or REFUSED once the refusal is sent). */
  #access(s: S, id: number, action: string, name: unknown): Stream<S> {
    const problem = streamNameProblem(name);
    if (problem !== undefined) throw createError('CB_ERR_INVALID_OPTION', `stream name ${problem}`, { details: { option: 'name' } });
    const stream = this.#p.table.find(name as string);
    if (stream === undefined)
      throw createError('CB_ERR_STREAM_NOT_FOUND', `no stream named ${JSON.stringify(name)}`, { details: { stream: name } });
    if (!this.#p.host.get().admit(s, id, action, name as string, this.#p.table.topicsOf(stream))) throw REFUSED;
    return stream;
  }

  /** The streams `s` may see, each followed by its dead-letter stream. */
  #list(s: S): StreamInfo[] {
    const { table, host } = this.#p;
    return [...table.values()]
      .filter((x) => host.get().allowed(s, table.topicsOf(x)))
      .flatMap((x) => (x.deadLetters ? [x.info(), x.deadLetters.info()] : [x.info()]));
  }

  async #create(s: S, id: number, input: unknown): Promise<StreamInfo> {
    const config = resolveStreamConfig(input, this.#p.maxTopicLength);
    if (!this.#p.host.get().admit(s, id, 'stream.create', config.name, config.topics)) throw REFUSED;
    return (await this.#ensure(config)).info();
  }

  /**
   * The hub's own stream `config.name` (the settings bucket), created when missing, one change at
   * a time with the operations clients send; CB_ERR_STREAM_EXISTS when it exists with another config.
   */
  ensure(config: ResolvedStreamConfig): Promise<Stream<S>> {
    return this.#exclusive(() => this.#ensure(config));
  }

  async #ensure(config: ResolvedStreamConfig): Promise<Stream<S>> {
    const { table, host, catalog, maxStreams } = this.#p;
    const existing = table.get(config.name);
    if (existing !== undefined) {
      if (sameStreamConfig(existing.config, config)) return existing;
      throw createError('CB_ERR_STREAM_EXISTS', `stream ${config.name} exists with a different configuration`, {
        details: { stream: config.name },
      });
    }
    this.#checkOverlap(config, undefined);
    if (table.size >= maxStreams) {
      throw createError('CB_ERR_STREAM_LIMIT', `the hub holds its maximum of ${maxStreams} streams`, { details: { limit: maxStreams } });
    }
    await catalog.saveStream(config);
    const stream = await this.#p.loader.open(config);
    host.get().emit({ action: 'created', stream: config.name, details: { topics: config.topics } });
    return stream;
  }

  /** A topic pattern of `config` that overlaps another stream's (other than `self`): CB_ERR_STREAM_EXISTS. */
  #checkOverlap(config: ResolvedStreamConfig, self: Stream<S> | undefined): void {
    for (const other of this.#p.table.values()) {
      if (other === self) continue;
      for (const a of config.topics) {
        const b = other.config.topics.find((t) => patternsOverlap(a, t));
        if (b !== undefined) {
          throw createError('CB_ERR_STREAM_EXISTS', `topic pattern ${a} overlaps ${b} of stream ${other.name}`, {
            details: { stream: other.name, pattern: a, overlaps: b },
          });
        }
      }
    }
  }

  /**
   * `update`: a stream's topics, limits, duplicate window or durability change; its messages and
   * durable consumers (at their positions) stay. The stream is reopened with the new config, so
   * the members of its consumers are ended with CB_ERR_STREAM_CLOSED and consume again.
   * Access: the app must be allowed the stream's old topics and its new ones.
   */
  async #update(s: S, id: number, input: unknown): Promise<StreamInfo> {
    const { table, host, catalog, consumers, positions } = this.#p;
    const config = resolveStreamConfig(input, this.#p.maxTopicLength);
    const stream = this.#access(s, id, 'stream.update', config.name);
    if (!host.get().admit(s, id, 'stream.update', config.name, config.topics)) throw REFUSED;
    if (sameStreamConfig(stream.config, config)) return stream.info();
    this.#checkOverlap(config, stream);
    const changed = createError('CB_ERR_STREAM_CLOSED', `stream ${stream.name} was reconfigured: consume again`, {
      details: { stream: stream.name },
    });
    for (const x of [stream, stream.deadLetters]) {
      if (x === undefined) continue;
      for (const c of x.consumers.values()) {
        consumers.end(c, changed);
        positions.cancel(c);
        if (!c.ephemeral && x.quarantined === undefined) await positions.save(x, c);
      }
    }
    table.remove(stream);
    await stream.close().catch(() => {});
    await catalog.saveStream(config);
    const reopened = await this.#p.loader.open(config);
    host.get().emit({ action: 'updated', stream: config.name, details: { topics: config.topics } });
    return reopened.info();
  }

  async #remove(s: S, id: number, name: unknown): Promise<{ deleted: true }> {
    const { table, host, catalog, consumers, positions } = this.#p;
    const stream = this.#access(s, id, 'stream.delete', name);
    if (stream.deadLetterOf !== undefined) {
      throw createError('CB_ERR_INVALID_OPTION', `${stream.name} is a dead-letter stream: delete ${stream.deadLetterOf}, or purge it`, {
        details: { option: 'name' },
      });
    }
    const gone = createError('CB_ERR_STREAM_NOT_FOUND', `stream ${stream.name} was deleted`, { details: { stream: stream.name } });
    for (const x of [stream, stream.deadLetters]) {
      for (const c of x?.consumers.values() ?? []) {
        consumers.end(c, gone);
        positions.cancel(c);
      }
    }
    table.remove(stream);
    await stream.close().catch(() => {});
    await catalog.deleteStream(stream.name);
    host.get().emit({ action: 'deleted', stream: stream.name });
    return { deleted: true };
  }

  async #purge(s: S, id: number, name: unknown, upToSeq: unknown): Promise<{ purged: number }> {
    const stream = this.#access(s, id, 'stream.purge', name);
    if (upToSeq !== undefined && (!Number.isSafeInteger(upToSeq) || (upToSeq as number) < 0)) {
      throw createError('CB_ERR_INVALID_OPTION', 'upToSeq must be an integer >= 0', { details: { option: 'upToSeq' } });
    }
    const purged = await stream.usable().purge(upToSeq === undefined ? {} : { upToSeq: upToSeq as number });
    if (upToSeq === undefined) stream.dedupe.clear();
    for (const c of stream.consumers.values()) c.pump();
    this.#p.host.get().emit({ action: 'purged', stream: stream.name, details: { purged } });
    return { purged };
  }

  /** One message, by seq: a purge of one (the same grant as `purge`). */
  async #deleteMessage(s: S, id: number, name: unknown, seq: unknown): Promise<{ deleted: boolean }> {
    const stream = this.#access(s, id, 'stream.purge', name);
    checkSeq(seq);
    const deleted = await stream.usable().deleteMessage(seq as number);
    if (deleted) this.#p.host.get().emit({ action: 'purged', stream: stream.name, details: { seq } });
    return { deleted };
  }

  /** The messages of one topic, but its newest `keep`: a purge of one key's history (the same grant as `purge`). */
  async #purgeTopic(s: S, id: number, name: unknown, topic: unknown, keep: unknown): Promise<{ purged: number }> {
    const stream = this.#access(s, id, 'stream.purge', name);
    checkExactTopic(topic, this.#p.maxTopicLength);
    const purged = await stream.usable().purgeTopic(topic as string, { keep: checkKeep({ keep: keep as number | undefined }) });
    if (purged > 0) this.#p.host.get().emit({ action: 'purged', stream: stream.name, details: { purged, topic } });
    return { purged };
  }

  /** The newest stored message of one topic (a key's value), from the stream's topic index. */
  async #last(s: S, id: number, name: unknown, topic: unknown): Promise<{ message: WireRecord | null }> {
    const stream = this.#access(s, id, 'stream.read', name);
    checkExactTopic(topic, this.#p.maxTopicLength);
    return { message: await lastOfTopic(stream, topic as string, this.#p.clock()) };
  }

  async #read(
    s: S,
    id: number,
    name: unknown,
    fromSeq: unknown,
    maxMessages: unknown,
    topic: unknown,
  ): Promise<{ messages: WireRecord[] }> {
    const stream = this.#access(s, id, 'stream.read', name);
    if (topic === undefined) return { messages: await readPage(stream, fromSeq, maxMessages, this.#limits()) };
    checkExactTopic(topic, this.#p.maxTopicLength);
    return { messages: await readTopic(stream, topic as string, fromSeq, maxMessages, this.#limits()) };
  }

  #limits(): ReadLimits {
    // base64 grows 4/3: a page's record bytes stay well below the frame limit.
    return { maxBytes: Math.floor(this.#p.maxFrameBytes / 2), maxTopicLength: this.#p.maxTopicLength, now: this.#p.clock() };
  }

  /** `consume`: the request is checked here, the consumer's side is the registry's. */
  #consume(s: S, id: number, sid: number, name: unknown, input: unknown): Promise<StreamInfo['consumers'][number] & { stream: string }> {
    if (!Number.isSafeInteger(sid) || sid === 0) throw createError('CB_ERR_PROTOCOL', 'consume needs a non-zero sid');
    const config = resolveConsumerConfig(input);
    return this.#p.consumers.consume(s, sid, this.#access(s, id, 'stream.consume', name), config);
  }
}
