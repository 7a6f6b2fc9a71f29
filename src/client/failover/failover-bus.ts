/**
 * A Bus over several hubs: `connect([{ url, weight }, ...])`. The Bus itself is unchanged (its
 * connector is the HubSet's; it has `bus.sync`, as every Bus connect() makes); this adds the hubs'
 * state to it and opens the first connection on whichever hub answers. Kept out of `crossbus/page`: only the 'crossbus' entries import it.
 */
import { ConfigError, CrossbusError } from '../../core/errors/index.js';
import type { Metric } from '../../core/metrics/metric.js';
import type { TransportConnector } from '../../core/transport/transport.js';
import { openBus, type BusPlugins } from '../bus.js';
import type { ConnectOptions } from '../options.js';
import { HubSet, type EndpointSnapshot } from './hub-set.js';
import { resolveFailoverOptions, resolveServers, type FailoverOptions, type ServerSpec } from './options.js';
import { SyncingBus, type SyncConnectOptions } from '../sync/syncing-bus.js';

/** connect()'s options with several hubs. */
export interface MultiHubOptions extends SyncConnectOptions {
  /** Heartbeats, health and the return to the preferred hub. @default see FailoverOptions */
  failover?: FailoverOptions;
}

export class FailoverBus extends SyncingBus {
  readonly #hubs: HubSet;

  /** @internal use connect() with a list of servers */
  constructor(hubs: HubSet, options: SyncConnectOptions, plugins: BusPlugins) {
    super(hubs.connector, options, { ...plugins, retryRefusal: () => hubs.retryRefusal() });
    this.#hubs = hubs;
    hubs.attach(this);
  }

  /** The name of the hub it is connected to; undefined while it moves between hubs. */
  get hub(): string | undefined {
    return this.#hubs.current;
  }

  /** The hub it returns to when that one is healthy (drawn by weight at connect). */
  get preferredHub(): string {
    return this.#hubs.preferred;
  }

  /** Every hub's state and latency, in the order given. */
  hubs(): EndpointSnapshot[] {
    return this.#hubs.snapshot();
  }

  /** The hubs' health and the moves, as typed metrics (Prometheus-style names, label `hub`). */
  metrics(): Metric[] {
    return this.#hubs.metrics();
  }

  /** @internal connect() with `waitForHub: false`: each hub in turn, in the background, by the reconnect rules. */
  openAnyInBackground(): this {
    return this.openInBackground(
      () =>
        this.open().catch((err: unknown) => {
          this.#hubs.attemptFailed();
          throw err;
        }),
      (err) => !(err instanceof CrossbusError) || err.retryable || this.#hubs.retryRefusal(),
    );
  }

  /** @internal the first connection: each hub in turn (by the HubSet's choice) until one answers. */
  async openAny(attempts: number): Promise<this> {
    for (let tried = 1; ; tried++) {
      try {
        return await this.open();
      } catch (err) {
        const retryable = !(err instanceof CrossbusError) || err.retryable || this.#hubs.retryRefusal();
        this.#hubs.attemptFailed();
        if (tried >= attempts || !retryable) {
          await this.close();
          throw err;
        }
      }
    }
  }
}

/**
 * Connects to the first hub that answers among `servers` (the preferred one first) and keeps the
 * Bus on a healthy hub from then on. `connectorFor` turns a URL into a connector (the entry
 * point's), `plugins` are the entry point's Bus plugins. Rejects with CB_ERR_INVALID_OPTION or
 * CB_ERR_CONFLICTING_OPTIONS for a bad list or options, and with the last hub's error when none answers.
 */
export async function connectServers(
  servers: readonly ServerSpec[],
  options: MultiHubOptions,
  connectorFor: (url: string) => TransportConnector,
  plugins: BusPlugins,
): Promise<FailoverBus> {
  const { failover, ...busOptions } = options;
  if (busOptions.reconnect === false)
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'several hubs need reconnects: reconnect: false leaves nothing to fail over with', {
      details: { option: 'reconnect' },
    });
  if (busOptions.transport !== undefined)
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'give each server its own connector instead of options.transport', {
      details: { option: 'transport' },
    });
  const opts = resolveFailoverOptions(failover);
  const resolved = resolveServers(servers, opts.maxServers, connectorFor);
  // A watch is a plain connection: no reconnects (the next tick reopens it), no streams, and it
  // gives up within the time that makes a hub down anyway.
  const watchOptions: ConnectOptions = {
    ...busOptions,
    reconnect: false,
    timeoutMs: Math.min(busOptions.timeoutMs ?? Number.POSITIVE_INFINITY, opts.heartbeatMs * opts.maxMissed),
  };
  const watchPlugins: BusPlugins = { secretAuth: plugins.secretAuth, reframe: plugins.reframe };
  const hubs = new HubSet(resolved, opts, (connector) => openBus(connector, watchOptions, watchPlugins));
  const bus = new FailoverBus(hubs, busOptions, plugins);
  return busOptions.waitForHub === false ? bus.openAnyInBackground() : bus.openAny(resolved.length);
}
