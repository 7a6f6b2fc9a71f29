/**
 * A bridge joins two hubs' topic spaces through two client connections: a browser hub (in a
 * page or an extension's service worker) and a Node hub it reaches over WebSocket with its own
 * credentials. Messages on `exports` patterns go from the local hub to the remote one, messages
 * on `imports` the other way; requests to `remoteServices` made on the local hub are answered by
 * the remote hub's services, and `localServices` the other way. Each hub applies its own access
 * rules to the bridge's app, so a bridge cannot widen what either side allows.
 */
import { createError, type CrossbusError } from '../core/errors/index.js';
import type { Headers } from '../core/protocol/envelope.js';
import { HEADER_DURABLE } from '../core/streams/wire.js';
import { randomHex } from '../core/util/random.js';
import type { Bus } from './bus.js';
import type { Message } from './message.js';
import type { Subscription } from './subscription.js';
import { DEFAULT_MAX_BRIDGE_HOPS } from './defaults.js';

/** Header listing the bridges a message has crossed (comma-separated ids): a bridge never sends one back. */
export const HEADER_BRIDGED = 'cb-bridged';

export interface BridgeOptions {
  /** Patterns whose messages go from the local hub to the remote one. @default [] */
  exports?: string[];
  /** Patterns whose messages come from the remote hub to the local one. @default [] */
  imports?: string[];
  /** Topics (patterns) served on the remote hub that local clients may request through the bridge. @default [] */
  remoteServices?: string[];
  /** Topics served on the local hub that remote clients may request through the bridge. @default [] */
  localServices?: string[];
  /** @default DEFAULT_MAX_BRIDGE_HOPS */
  maxHops?: number;
  /** A forwarded request's timeout. @default 5000 */
  requestTimeoutMs?: number;
  /** Called with every message or request the bridge could not forward. @default ignore */
  onError?: (error: CrossbusError, topic: string) => void;
}

export interface Bridge {
  readonly id: string;
  /** Resolves once every subscription and service of the bridge is in place on both hubs. */
  readonly ready: Promise<void>;
  /** Messages forwarded in each direction. */
  readonly stats: { exported: number; imported: number; requestsOut: number; requestsIn: number };
  close(): void;
}

/** The ids of the bridges a message has crossed, in order (header cb-bridged). */
export function bridgeHops(headers: Headers): string[] {
  return (headers[HEADER_BRIDGED] ?? '').split(',').filter((x) => x !== '');
}

/** Starts forwarding between `local` and `remote` (two connected buses). */
export function bridge(local: Bus, remote: Bus, options: BridgeOptions = {}): Bridge {
  const id = randomHex(6);
  const maxHops = options.maxHops ?? DEFAULT_MAX_BRIDGE_HOPS;
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const onError = options.onError ?? (() => {});
  const stats = { exported: 0, imported: 0, requestsOut: 0, requestsIn: 0 };
  const subs: Subscription<unknown>[] = [];

  /** Headers for the other side, or undefined when the message must not cross (a loop, too many hops). */
  const crossing = (m: Message): Headers | undefined => {
    const hops = bridgeHops(m.headers);
    if (hops.includes(id) || hops.length >= maxHops) return undefined;
    return { ...m.headers, [HEADER_BRIDGED]: [...hops, id].join(',') };
  };
  const fail =
    (topic: string) =>
    (err: unknown): void => {
      onError(err as CrossbusError, topic);
    };

  const forward = (from: Bus, to: Bus, pattern: string, count: 'exported' | 'imported'): void => {
    subs.push(
      from.subscribe(pattern, (m) => {
        if (m.replyTo !== '') return; // requests cross only through services
        // A durable publish crosses through forwardDurablePublishes (with its msgId), never as a plain copy.
        if (m.headers[HEADER_DURABLE] !== undefined) return;
        const headers = crossing(m);
        if (headers === undefined) return;
        stats[count]++;
        to.publish(m.topic, m.data, { headers }).catch(fail(m.topic));
      }),
    );
  };
  const relay = (from: Bus, to: Bus, pattern: string, count: 'requestsOut' | 'requestsIn'): void => {
    subs.push(
      from.serve(
        pattern,
        async (m) => {
          const headers = crossing(m);
          if (headers === undefined)
            throw createError('CB_ERR_NO_RESPONDERS', `request ${m.topic} would loop across bridges`, { details: { topic: m.topic } });
          stats[count]++;
          const reply = await to.requestMessage(m.topic, m.data, { headers, timeoutMs });
          return reply.data;
        },
        { group: `bridge.${id}` },
      ),
    );
  };

  for (const p of options.exports ?? []) forward(local, remote, p, 'exported');
  for (const p of options.imports ?? []) forward(remote, local, p, 'imported');
  for (const p of options.remoteServices ?? []) relay(local, remote, p, 'requestsOut');
  for (const p of options.localServices ?? []) relay(remote, local, p, 'requestsIn');

  const ready = Promise.all(subs.map((s) => s.ready)).then(() => undefined);
  ready.catch(() => {});
  return {
    id,
    ready,
    stats,
    close: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}
