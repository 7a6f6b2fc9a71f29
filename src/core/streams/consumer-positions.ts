/**
 * Saving durable consumers' positions to the catalog: a changed position is saved at most
 * `delayMs` later (one timer per consumer, however often it changes), and every position once
 * more when the service closes. A failed save is logged: the consumer then redelivers from the
 * last position that was saved.
 */
import type { Logger } from '../util/logger.js';
import type { StreamCatalog } from './catalog.js';
import type { ServedConsumer } from './served-consumer.js';
import type { Stream } from './stream.js';

export class ConsumerPositions<S> {
  readonly #catalog: StreamCatalog;
  readonly #logger: Logger;
  readonly #delayMs: number;
  readonly #timers = new Map<ServedConsumer<S>, ReturnType<typeof setTimeout>>();
  readonly #saving = new Set<Promise<void>>();
  #stopped = false;

  constructor(catalog: StreamCatalog, logger: Logger, delayMs: number) {
    this.#catalog = catalog;
    this.#logger = logger;
    this.#delayMs = delayMs;
  }

  /** A consumer's position changed: save it soon (durable consumers only). */
  schedule(stream: Stream<S>, c: ServedConsumer<S>): void {
    if (c.ephemeral || this.#timers.has(c) || this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(c);
      void this.save(stream, c);
    }, this.#delayMs);
    this.#timers.set(c, t);
  }

  /** The consumer is gone: a save still scheduled for it does not happen. */
  cancel(c: ServedConsumer<S>): void {
    const t = this.#timers.get(c);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(c);
  }

  /** Saves the position now; resolves once saved or logged as failed (never rejects). */
  save(stream: Stream<S>, c: ServedConsumer<S>): Promise<void> {
    const p = this.#catalog.saveConsumer(stream.name, stream.storedConsumer(c)).catch((err: unknown) => {
      this.#logger.error(
        {
          stream: stream.name,
          consumer: c.name,
          error: String(err),
        },
        'stream consumer: could not save its position (it will redeliver from the last saved one)',
      );
    });
    this.#saving.add(p);
    void p.finally(() => this.#saving.delete(p));
    return p;
  }

  /** The service is closing: nothing is scheduled any more (saves asked for directly still run). */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * The final save: drops the scheduled saves, saves every durable consumer of the streams that
   * are not quarantined, and waits for every save under way.
   */
  async saveAll(streams: Iterable<Stream<S>>): Promise<void> {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const stream of streams) {
      for (const x of [stream, stream.deadLetters]) {
        if (x === undefined || x.quarantined !== undefined) continue;
        for (const c of x.consumers.values()) if (!c.ephemeral) void this.save(x, c);
      }
    }
    await Promise.all([...this.#saving]);
  }
}
