/**
 * The Bus that `connect()` from 'crossbus' returns: the Bus with `bus.sync`, its replicated
 * documents. A subclass rather than a plugin slot of the Bus, so the page client's Bus
 * (`crossbus/page`) carries not one byte of it; a page adds sync with `createSync(bus)` from
 * 'crossbus/sync' instead.
 */
import type { TransportConnector } from '../../core/transport/transport.js';
import { Bus, type BusPlugins } from '../bus.js';
import type { ConnectOptions } from '../options.js';
import { createSync, type SyncApi, type SyncOptions } from './sync-api.js';

/** connect()'s options, with the defaults of `bus.sync`. */
export interface SyncConnectOptions extends ConnectOptions {
  /** How `bus.sync` opens documents: topic prefix, store, crypto. @default see SyncOptions */
  sync?: SyncOptions;
}

export class SyncingBus extends Bus {
  readonly #syncOptions: SyncOptions;
  #sync: SyncApi | undefined;

  /** @internal use connect() */
  constructor(connector: TransportConnector, options: SyncConnectOptions, plugins: BusPlugins = {}) {
    super(connector, options, plugins);
    this.#syncOptions = options.sync ?? {};
  }

  /** Replicated JSON documents and file trees kept in step through the hub: `bus.sync.open('project/42')`. */
  get sync(): SyncApi {
    this.#sync ??= createSync(this, this.#syncOptions);
    return this.#sync;
  }
}
