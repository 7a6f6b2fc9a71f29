/**
 * The consumers of a hub's streams and their members: who joins (`consume`) and leaves
 * (UNSUBSCRIBE, a closed connection), deleting durable consumers, ACK frames, and what a consumer
 * may do with its stream (`ConsumerHost`: read the log, deliver to members, dead-letter, save).
 * An ephemeral consumer ends with its last member; a durable one stays until it is deleted.
 */
import { type CrossbusError, createError } from '../errors/index.js';
import type { Envelope } from '../protocol/envelope.js';
import type { Logger } from '../util/logger.js';
import { randomHex } from '../util/random.js';
import { decodeAck } from './ack-payload.js';
import type { ConsumerState, StoredConsumer, StreamCatalog } from './catalog.js';
import type { ResolvedConsumerConfig } from './config.js';
import { Consumer } from './consumer.js';
import type { ConsumerHost, Member, ServedConsumer } from './served-consumer.js';
import type { ConsumerPositions } from './consumer-positions.js';
import type { DeadLetters } from './dead-letters.js';
import type { HostLink } from './host-link.js';
import type { Stream } from './stream.js';
import type { StreamTable } from './stream-table.js';
import type { StreamInfo } from './wire.js';
import { unrefTimer } from '../util/timers.js';

/** A consumer's log could not be read again after a failure. */
const READ_RETRY_MS = 1_000;

export interface ConsumerRegistryParts<S> {
  table: StreamTable<S>;
  host: HostLink<S>;
  positions: ConsumerPositions<S>;
  deadLetters: DeadLetters<S>;
  catalog: StreamCatalog;
  logger: Logger;
  clock: () => number;
  /** Consumers (durable and ephemeral) one stream holds. */
  maxConsumers: number;
  /** Reading a stream's log found its data damaged (`stream` is the user stream, also for its dead letters). */
  onCorrupt(stream: Stream<S>, error: CrossbusError): void;
}

export class ConsumerRegistry<S> {
  readonly #p: ConsumerRegistryParts<S>;
  /** Per connection: sid -> the consumer it is a member of. */
  readonly #members = new Map<S, Map<number, ServedConsumer<S>>>();

  constructor(parts: ConsumerRegistryParts<S>) {
    this.#p = parts;
  }

  /** A durable consumer the catalog kept: it goes on from its saved position once members join. */
  restore(stream: Stream<S>, stored: StoredConsumer): void {
    // One a member joined while the stream was being opened is already live: it stays.
    if (stream.consumers.has(stored.config.durable)) return;
    const c = this.#construct(stream, stored.config.durable, false, stored.config, stored.state);
    stream.consumers.set(c.name, c);
  }

  /** A durable consumer of a shared log the storage keeps itself; every other one is the hub's own. */
  #construct(stream: Stream<S>, name: string, ephemeral: boolean, config: ResolvedConsumerConfig, state: ConsumerState): ServedConsumer<S> {
    const host = this.#hostFor(stream);
    const kept = ephemeral ? undefined : stream.storage?.durableConsumer?.(name, config, state, host);
    return kept ?? new Consumer<S>(stream.name, name, ephemeral, config, state, host);
  }

  /**
   * `consume` (access already checked): member `sid` of `s` joins the durable consumer of that
   * name, or a new one (ephemeral when it names none).
   */
  async consume(
    s: S,
    sid: number,
    stream: Stream<S>,
    config: ResolvedConsumerConfig,
  ): Promise<StreamInfo['consumers'][number] & { stream: string }> {
    stream.usable();
    let bySid = this.#members.get(s);
    if (bySid?.has(sid)) throw createError('CB_ERR_PROTOCOL', `sid ${sid} is already in use on this connection`, { details: { sid } });
    let c = config.durable === undefined ? undefined : stream.consumers.get(config.durable);
    // Shared with other hubs, an idle durable consumer may have moved on elsewhere: read it afresh.
    if (c !== undefined && c.members.length === 0 && this.#p.catalog.shared === true) c = await this.#reload(stream, c);
    if (c === undefined) c = await this.#create(stream, config);
    else {
      // A member joining a durable consumer brings the settings in force from now on; the position stays.
      c.config = { ...config, deliver: c.config.deliver };
      this.#p.positions.schedule(stream, c);
    }
    if (bySid === undefined) this.#members.set(s, (bySid = new Map()));
    bySid.set(sid, c);
    c.addMember({ session: s, sid });
    return { stream: stream.name, ...c.info() };
  }

  /**
   * `add-consumer` (access already checked): a durable consumer without members, which keeps its
   * position from `deliver` until members consume from it. Idempotent: an existing one stays as it is.
   */
  async addDurable(stream: Stream<S>, config: ResolvedConsumerConfig): Promise<StreamInfo['consumers'][number] & { stream: string }> {
    stream.usable();
    if (config.durable === undefined)
      throw createError('CB_ERR_INVALID_OPTION', 'add-consumer needs a durable name', { details: { option: 'durable' } });
    const c = stream.consumers.get(config.durable) ?? (await this.#create(stream, config));
    this.#p.host.get().emit({ action: 'consumer-created', stream: stream.name, details: { durable: c.name } });
    return { stream: stream.name, ...c.info() };
  }

  /** A durable consumer as the shared catalog holds it now; undefined when another hub deleted it. */
  async #reload(stream: Stream<S>, held: ServedConsumer<S>): Promise<ServedConsumer<S> | undefined> {
    const stored = await this.#saved(stream, held.name);
    if (stream.consumers.get(held.name) !== held || held.members.length > 0) return stream.consumers.get(held.name);
    held.close();
    stream.consumers.delete(held.name);
    if (stored === undefined) return undefined;
    this.restore(stream, stored);
    return stream.consumers.get(held.name);
  }

  /**
   * Before a stream's info is given: with a catalog shared with other hubs, the durable consumers
   * created elsewhere are held here too and those deleted elsewhere (idle here) are dropped, and
   * those kept by the storage read their counts afresh. A failed read leaves the last known ones.
   */
  async refresh(stream: Stream<S>): Promise<void> {
    if (this.#p.catalog.shared !== true || stream.quarantined !== undefined) return;
    const stored = await this.#p.catalog.loadConsumers(stream.name).catch(() => undefined);
    if (stored === undefined) return;
    const names = new Set(stored.map((x) => x.config.durable));
    for (const c of [...stream.consumers.values()]) {
      if (c.ephemeral || names.has(c.name) || c.members.length > 0) continue;
      c.close();
      stream.consumers.delete(c.name);
    }
    for (const x of stored) if (!stream.consumers.has(x.config.durable)) this.restore(stream, x);
    await Promise.all([...stream.consumers.values()].map((c) => c.refresh?.().catch(() => {})));
  }

  /** A durable consumer this hub does not hold yet, as the shared catalog has it (undefined: there is none). */
  async #fromCatalog(stream: Stream<S>, durable: string): Promise<ServedConsumer<S> | undefined> {
    const stored = await this.#saved(stream, durable);
    if (stored !== undefined && !stream.consumers.has(durable)) this.restore(stream, stored);
    return stream.consumers.get(durable);
  }

  /** Durable consumer `durable` of `stream` as the catalog has it now, if it has it. */
  async #saved(stream: Stream<S>, durable: string): Promise<StoredConsumer | undefined> {
    return (await this.#p.catalog.loadConsumers(stream.name)).find((x) => x.config.durable === durable);
  }

  /** A new consumer of `stream` (saved at once when durable); CB_ERR_STREAM_LIMIT past the limit. */
  async #create(stream: Stream<S>, config: ResolvedConsumerConfig): Promise<ServedConsumer<S>> {
    const max = this.#p.maxConsumers;
    if (stream.consumers.size >= max) {
      throw createError('CB_ERR_STREAM_LIMIT', `stream ${stream.name} holds its maximum of ${max} consumers`, {
        details: { limit: max, stream: stream.name },
      });
    }
    const durable = config.durable;
    // A consumer the storage keeps starts where its deliver policy says, there (open).
    const kept = durable !== undefined && stream.storage?.durableConsumer !== undefined;
    const state = kept ? { nextSeq: 1, plan: [], outstanding: [] } : await stream.startState(config.deliver);
    const c = this.#construct(stream, durable ?? `_eph-${randomHex(8)}`, durable === undefined, config, state);
    await c.open?.();
    stream.consumers.set(c.name, c);
    if (durable !== undefined) await this.#p.positions.save(stream, c);
    return c;
  }

  /** `delete-consumer` (access already checked): ends a durable consumer's members and forgets it. */
  async deleteDurable(stream: Stream<S>, durable: unknown): Promise<{ deleted: true }> {
    let c = typeof durable === 'string' ? stream.consumers.get(durable) : undefined;
    // Shared with other hubs, it may have been created (and be served) elsewhere.
    if (c === undefined && typeof durable === 'string' && this.#p.catalog.shared === true) c = await this.#fromCatalog(stream, durable);
    if (c === undefined || c.ephemeral)
      throw createError('CB_ERR_CONSUMER_NOT_FOUND', `stream ${stream.name} has no consumer ${JSON.stringify(durable)}`, {
        details: { stream: stream.name, durable },
      });
    this.end(
      c,
      createError('CB_ERR_CONSUMER_NOT_FOUND', `consumer ${c.name} was deleted`, { details: { stream: stream.name, durable: c.name } }),
    );
    this.#p.positions.cancel(c);
    stream.consumers.delete(c.name);
    await c.destroy?.();
    await this.#p.catalog.deleteConsumer(stream.name, c.name);
    this.#p.host.get().emit({ action: 'consumer-deleted', stream: stream.name, details: { durable: c.name } });
    return { deleted: true };
  }

  /** Ends a consumer's members with an error (the client's consumer fails with it). */
  end(c: ServedConsumer<S>, error: CrossbusError): void {
    c.close();
    for (const m of [...c.members]) {
      this.#members.get(m.session)?.delete(m.sid);
      this.#p.host.current?.replyError(m.session, 0, createError(error.code, error.message, { details: { ...error.details, sid: m.sid } }));
    }
    c.members.length = 0;
  }

  /** Whether `sid` on `s` is a consumer (the broker asks before treating an UNSUBSCRIBE as unknown). */
  hasMember(s: S, sid: number): boolean {
    return this.#members.get(s)?.has(sid) === true;
  }

  /** A member leaves (UNSUBSCRIBE of its sid): what it held goes out again at once. */
  leave(s: S, sid: number): void {
    const c = this.#members.get(s)?.get(sid);
    if (c === undefined) return;
    this.#members.get(s)?.delete(sid);
    c.removeMember(s, sid);
    this.#dropIfIdle(c);
  }

  /** A connection closed: it leaves every consumer it was a member of. */
  sessionClosed(s: S): void {
    const bySid = this.#members.get(s);
    if (bySid === undefined) return;
    this.#members.delete(s);
    for (const [sid, c] of bySid) {
      c.removeMember(s, sid);
      this.#dropIfIdle(c);
    }
  }

  /** The connection's queue went out: consumers waiting for room on it go on. */
  drained(s: S): void {
    const bySid = this.#members.get(s);
    if (bySid === undefined) return;
    for (const c of bySid.values()) c.pump();
  }

  /** An ACK frame: settles one delivery, or refuses a stale one with CB_ERR_ACK_STALE. */
  onAck(s: S, env: Envelope): void {
    const c = this.#members.get(s)?.get(env.sid);
    const ack = decodeAck(env);
    const host = this.#p.host;
    if (ack === undefined) {
      host.get().replyError(
        s,
        env.id,
        createError('CB_ERR_PROTOCOL', 'an ACK carries a 4-byte token or a JSON { token, op }', {
          details: { sid: env.sid, seq: env.seq },
        }),
      );
    } else if (c === undefined || c.settle(env.seq, ack) === 'stale') {
      host.get().replyError(
        s,
        env.id,
        createError(
          'CB_ERR_ACK_STALE',
          c === undefined
            ? `no consumer with sid ${env.sid} on this connection`
            : `the delivery of ${env.seq} you ${ack.op === 'ack' ? 'acknowledged' : `${ack.op}ed`} was given out again or already settled`,
          {
            details: { sid: env.sid, seq: env.seq, op: ack.op },
          },
        ),
      );
    }
    host.get().confirmAck(s, env.id);
  }

  #dropIfIdle(c: ServedConsumer<S>): void {
    if (!c.ephemeral || c.members.length > 0) return;
    c.close();
    this.#p.table.find(c.stream)?.consumers.delete(c.name);
  }

  /** What a consumer of `stream` may do: one per consumer, built when it is created. */
  #hostFor(stream: Stream<S>): ConsumerHost<S> {
    const p = this.#p;
    return {
      now: p.clock,
      firstSeq: () => stream.storage?.state().firstSeq ?? 1,
      lastSeq: () => stream.storage?.state().lastSeq ?? 0,
      read: (from, max) => stream.readShared(from, max),
      canSend: (m: Member<S>) => p.host.get().canSend(m.session),
      send: (m: Member<S>, env: Envelope) => p.host.get().send(m.session, env),
      deadLetter: (msg, reason, attempts) => p.deadLetters.store(stream, msg, reason, attempts),
      changed: (c) => p.positions.schedule(stream, c),
      ended: (c, error) => {
        this.end(c, error);
        p.positions.cancel(c);
        if (stream.consumers.get(c.name) === c) stream.consumers.delete(c.name);
      },
      failed: (c, error) => {
        if (error.code === 'CB_ERR_STREAM_CORRUPT') p.onCorrupt(p.table.get(stream.deadLetterOf ?? stream.name) ?? stream, error);
        else {
          p.logger.warn({ stream: stream.name, consumer: c.name, code: error.code }, 'stream consumer: reading the log failed; retrying');
          const t = setTimeout(() => c.pump(), READ_RETRY_MS);
          unrefTimer(t);
        }
      },
    };
  }
}
