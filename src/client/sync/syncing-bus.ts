/**
 * The Bus that `connect()` from 'crossbus' returns: the Bus with `bus.sync`, its replicated
 * documents, and `bus.kv`, its key-value buckets. A subclass rather than a plugin slot of the Bus, so the page client's Bus
 * (`crossbus/page`) carries not one byte of it; a page adds sync with `createSync(bus)` from
 * 'crossbus/sync' instead. It can also start without the hub (`waitForHub: false`): an app that
 * restarts while the hub is away opens its documents from their stores and edits them, and the
 * bus connects in the background.
 */
import { ConfigError, ConnectionError, CrossbusError, RequestError } from '../../core/errors/index.js';
import type { Message } from '../message.js';
import type { RequestOptions } from '../request-reply.js';
import { isConnecting, whenConnected } from '../when-connected.js';
import type { ReconnectOptions } from '../options.js';
import type { TransportConnector } from '../../core/transport/transport.js';
import { backoffDelay } from '../backoff.js';
import type { BusPlugins } from '../bus.js';
import { TracedBus, type TracedConnectOptions } from '../tracing/traced-bus.js';
import { resolveConnectOptions } from '../options.js';
import { createSync, type SyncApi, type SyncOptions } from './sync-api.js';
import { createKv, type KvApi } from '../kv/kv-api.js';

/** connect()'s options, with the defaults of `bus.sync`. */
export interface SyncConnectOptions extends TracedConnectOptions {
  /** How `bus.sync` opens documents: topic prefix, store, crypto. @default see SyncOptions */
  sync?: SyncOptions;
  /**
   * `false`: connect() resolves at once with a bus still `connecting`, which tries the first
   * connection in the background by the `reconnect` rules (and closes when they give up, or the
   * hub refuses it for good). Meanwhile publishes wait in the reconnect buffer and `bus.sync.open()`
   * opens the documents its store holds. Needs reconnects. @default true: connect() waits for the
   * first connection and rejects when it fails
   */
  waitForHub?: boolean;
}

export class SyncingBus extends TracedBus {
  readonly #syncOptions: SyncOptions;
  readonly #reconnect: Readonly<Required<ReconnectOptions>> | undefined;
  readonly #requestTimeoutMs: number;
  #sync: SyncApi | undefined;
  #kv: KvApi | undefined;

  /** @internal use connect() */
  constructor(connector: TransportConnector, options: SyncConnectOptions, plugins: BusPlugins = {}) {
    super(connector, options, plugins);
    this.#syncOptions = options.sync ?? {};
    const resolved = resolveConnectOptions(options);
    this.#reconnect = resolved.reconnect;
    this.#requestTimeoutMs = resolved.requestTimeoutMs;
    if (options.waitForHub !== undefined && typeof options.waitForHub !== 'boolean') {
      throw new ConfigError('CB_ERR_INVALID_OPTION', 'waitForHub must be true or false', { details: { option: 'waitForHub' } });
    }
    if (options.waitForHub === false && this.#reconnect === undefined) {
      throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'waitForHub: false connects in the background, which takes reconnects', {
        details: { option: 'waitForHub' },
      });
    }
  }

  /** Replicated JSON documents and file trees kept in step through the hub: `bus.sync.open('project/42')`. */
  get sync(): SyncApi {
    this.#sync ??= createSync(this, this.#syncOptions);
    return this.#sync;
  }

  /**
   * Like the Bus's, but a request made while (re)connecting waits for the connection (within its
   * timeout) before it is written: its reply inbox must be the one the hub gives the connection.
   */
  override requestMessage<T = unknown>(topic: string, data?: unknown, options: RequestOptions = {}): Promise<Message<T>> {
    return isConnecting(this) ? this.#requestOnceConnected<T>(topic, data, options) : super.requestMessage<T>(topic, data, options);
  }

  async #requestOnceConnected<T>(topic: string, data: unknown, options: RequestOptions): Promise<Message<T>> {
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
    const started = Date.now();
    if (timeoutMs > 0 && !(await whenConnected(this, timeoutMs)) && this.state !== 'closed') {
      throw new RequestError('CB_ERR_TIMEOUT', `no reply to ${topic} within ${timeoutMs} ms (not connected)`, {
        details: { topic, timeoutMs },
      });
    }
    const rest = timeoutMs > 0 ? { ...options, timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) } : options;
    return super.requestMessage<T>(topic, data, rest);
  }

  /** Key-value buckets on durable streams: `bus.kv.bucket('config')`. */
  get kv(): KvApi {
    this.#kv ??= createKv(this);
    return this.#kv;
  }

  /**
   * @internal connect() with `waitForHub: false`: returns at once and tries the first connection
   * in the background, `attempt` at a time, until one succeeds, one fails for good (`retry` says
   * false: the bus closes with its error), the attempts run out, or the bus is closed.
   */
  openInBackground(attempt: () => Promise<unknown> = () => this.open(), retry: (error: unknown) => boolean = isRetryable): this {
    const r = this.#reconnect as Readonly<Required<ReconnectOptions>>;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const offClosed = this.on('closed', () => clearTimeout(timer));
    const next = (): void => {
      timer = undefined;
      if (this.state === 'closed') return;
      attempt().then(offClosed, (error: unknown) => {
        if (this.state === 'closed') return;
        failures++;
        if (!retry(error)) void this.close(error instanceof CrossbusError ? error : undefined);
        else if (failures > r.maxAttempts) {
          void this.close(new ConnectionError('CB_ERR_CONNECTION_FAILED', `gave up after ${failures} connection attempts`));
        } else timer = setTimeout(next, backoffDelay(failures - 1, r));
      });
    };
    next();
    return this;
  }
}

/** A first connection that failed for a passing reason (the hub is down, busy) is tried again. */
function isRetryable(error: unknown): boolean {
  return !(error instanceof CrossbusError) || error.retryable;
}
