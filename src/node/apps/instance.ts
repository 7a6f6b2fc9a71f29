/**
 * The runtime side of an app instance: what its entry imports to learn who it is and connect.
 *
 * ```js
 * import { instanceContext } from 'crossbus/runtime';
 * const ctx = await instanceContext();
 * const bus = await ctx.connect();
 * bus.serve('orders.get', (req) => lookup(req.data));
 * ```
 *
 * `instanceContext()` asks the supervisor (over the IPC channel `fork` opened) for the start
 * message: the hub's URL, the app's name, this instance's id, the app's secret and config. It
 * then beats every health interval, and on SIGTERM (or when the supervisor is gone: the channel
 * disconnects) drains: `onStop` callbacks run, the bus drains (in-flight requests finish), and
 * the process exits 0.
 */
import { createError } from '../../core/errors/index.js';
import { connect, type NodeConnectOptions, type SyncingBus } from '../index.js';
import { DEPLOY_ATTACH } from '../../core/apps/deploy-topics.js';
import { isStartMessage, type BeatMessage, type HelloMessage, type ReadyMessage, type StartMessage } from './ipc-messages.js';

export interface InstanceContext {
  /** The app's name (the manifest's). */
  readonly app: string;
  /** This instance: `<app>-<n>`, the same across its restarts. */
  readonly instanceId: string;
  /** The app's version (the manifest's). */
  readonly version: string;
  /** The hub's URL. */
  readonly url: string;
  /** The manifest's `config`, as it is. */
  readonly config: unknown;
  /** Connects to the hub as the app, with the credentials the supervisor handed over; the instance is running once it resolves. */
  connect(options?: Omit<NodeConnectOptions, 'name' | 'secret'>): Promise<SyncingBus>;
  /** Runs on SIGTERM, before the bus drains (stop taking work; finish what is in flight). */
  onStop(fn: () => void | Promise<void>): void;
}

let pending: Promise<InstanceContext> | undefined;

/** This process's context, from the supervisor. Rejects with CB_ERR_CONFIG_INVALID when the process was not started by one. */
export function instanceContext(): Promise<InstanceContext> {
  pending ??= start();
  return pending;
}

function send(message: HelloMessage | ReadyMessage | BeatMessage): void {
  if (process.connected) process.send?.(message);
}

function start(): Promise<InstanceContext> {
  if (process.send === undefined)
    return Promise.reject(
      createError('CB_ERR_CONFIG_INVALID', 'not started by a crossbus supervisor (no IPC channel): run it with `crossbus run <manifest>`'),
    );
  return new Promise((resolve) => {
    const onMessage = (message: unknown): void => {
      if (!isStartMessage(message)) return;
      process.off('message', onMessage);
      // Nothing else from the supervisor is needed: the channel must not keep the process alive.
      process.channel?.unref();
      resolve(contextFrom(message));
    };
    process.on('message', onMessage);
    send({ crossbus: 'hello' });
  });
}

function contextFrom(start: StartMessage): InstanceContext {
  // Kept in this closure only: never on the context, in the environment or in a log.
  const secret = start.secret;
  const stops: Array<() => void | Promise<void>> = [];
  const buses: SyncingBus[] = [];
  const beat = setInterval(() => {
    const cpu = process.cpuUsage();
    send({ crossbus: 'beat', rss: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system });
  }, start.heartbeatIntervalMs);
  beat.unref();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(beat);
    void (async () => {
      for (const fn of stops)
        await Promise.resolve()
          .then(fn)
          .catch(() => {});
      await Promise.allSettled(buses.map((bus) => bus.drain()));
      process.exit(0);
    })();
  };
  process.on('SIGTERM', stop);
  // The supervisor is gone (killed, or crashed): nobody would restart or stop this instance.
  process.on('disconnect', stop);
  return Object.freeze({
    app: start.app,
    instanceId: start.instanceId,
    version: start.version,
    url: start.url,
    config: start.config,
    async connect(options: Omit<NodeConnectOptions, 'name' | 'secret'> = {}): Promise<SyncingBus> {
      const bus = await connect(start.url, { ...options, name: start.app, ...(secret === undefined ? {} : { secret }) });
      buses.push(bus);
      // Run by the hub's deployment manager: say which instance this connection is, now and after
      // each reconnect (a new connection), before taking traffic the manager routes by instance.
      const token = start.attachToken;
      if (token !== undefined) {
        const attach = (): Promise<unknown> => bus.request(DEPLOY_ATTACH, { token }).catch(() => undefined);
        await attach();
        bus.on('connected', (e) => {
          if (e.reconnected) void attach();
        });
      }
      send({ crossbus: 'ready' });
      return bus;
    },
    onStop(fn: () => void | Promise<void>): void {
      stops.push(fn);
    },
  });
}
