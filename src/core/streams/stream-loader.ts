/**
 * Opening a stream from the catalog: its log and its dead-letter log, the duplicate window
 * rebuilt from the messages stored inside it, and the durable consumers saved for both. A stream
 * whose stored data is damaged (or cannot be opened) is held quarantined instead.
 */
import type { StreamCatalog } from './catalog.js';
import type { ResolvedStreamConfig } from './config.js';
import type { ConsumerRegistry } from './consumer-registry.js';
import type { StreamQuarantine } from './quarantine.js';
import { Stream, asCrossbusError, deadLetterConfig } from './stream.js';
import type { StreamTable } from './stream-table.js';

export interface StreamLoaderParts<S> {
  table: StreamTable<S>;
  catalog: StreamCatalog;
  consumers: ConsumerRegistry<S>;
  quarantine: StreamQuarantine<S>;
  clock: () => number;
  /** Message ids one stream remembers for de-duplication. */
  maxDuplicateIds: number;
}

export class StreamLoader<S> {
  readonly #p: StreamLoaderParts<S>;

  constructor(parts: StreamLoaderParts<S>) {
    this.#p = parts;
  }

  /** Opens a stream and holds it in the table (quarantined when its data is damaged). */
  async open(config: ResolvedStreamConfig): Promise<Stream<S>> {
    const p = this.#p;
    const stream = new Stream<S>(config, undefined, p.maxDuplicateIds);
    const dlq = new Stream<S>(deadLetterConfig(config), config.name);
    stream.deadLetters = dlq;
    try {
      stream.storage = await p.catalog.openStorage(config, 'log');
      dlq.storage = await p.catalog.openStorage(config, 'dlq');
      // Held only once usable: an operation that finds it while its logs open (another hub's
      // stream being adopted) would otherwise be refused as "not open".
      p.table.add(stream);
      await stream.rebuildDuplicateWindow(p.clock());
      for (const x of [stream, dlq]) {
        for (const stored of await p.catalog.loadConsumers(x.name)) p.consumers.restore(x, stored);
      }
    } catch (err) {
      if (p.table.get(config.name) !== stream) p.table.add(stream);
      p.quarantine.apply(stream, asCrossbusError(err));
    }
    return stream;
  }
}
