/**
 * The cluster suite's cross-node publish/subscribe pair: one publisher connected to one node of the
 * cluster, one subscriber connected to another, and a timed phase that counts what the subscriber
 * receives. Two kinds of pair, measured alike:
 *
 *   crossbus  a crossbus client (WebSocket, authenticated, encrypted: the default) on hub 1 and one
 *             on hub 2; the hubs carry the message over NATS
 *   nats      a nats.js client on NATS node 1 and one on node 2
 *
 * A pair is ready once a probe published by its publisher reached its subscriber (interest crosses
 * the cluster asynchronously: NATS routes tell each other of a new subscription).
 */
import { performance } from 'node:perf_hooks';
import { connect as natsConnect, type NatsConnection } from 'nats';
import type { NatsUser } from '../test/helpers/nats-cluster.js';
import type { AppCredentials } from './lib/cluster-setup.js';
import { loadCrossbus } from './pubsub.js';
import { type DeliveryCounter, deliveryPhase, type PhaseLimits, type PhaseResult } from './lib/delivery-phase.js';

/** What the subscriber saw, and the probes before a phase. */
interface Counter extends DeliveryCounter {
  /** Set while probing: the last probe number that arrived. */
  probe: number;
  probing: boolean;
}

export interface Pair {
  readonly counter: Counter;
  /** Publishes one message (a promise when the client has backpressure, as crossbus's publish). */
  publish(payload: Uint8Array): Promise<void> | undefined;
  close(): Promise<void>;
}

export type { PhaseLimits, PhaseResult };

const PROBE_WAIT_MS = 200;
const PROBE_ATTEMPTS = 100;

function newCounter(): Counter {
  return { size: 0, delivered: 0, bad: 0, lastDelivery: 0, probe: -1, probing: true, failure: undefined, wake: undefined };
}

/** Counts one delivery of `size` bytes (a probe while probing: its number is its first byte). */
function onDelivery(counter: Counter, data: Uint8Array | undefined): void {
  if (counter.probing) {
    if (data !== undefined && data.byteLength === 1) counter.probe = data[0] as number;
    return;
  }
  if ((data?.byteLength ?? -1) !== counter.size) counter.bad++;
  counter.delivered++;
  counter.lastDelivery = performance.now();
  if (counter.wake !== undefined && counter.delivered % 1024 === 0) counter.wake();
}

/**
 * Publishes numbered 1-byte probes until one arrives. Deliveries keep their order on the path from
 * one publisher to one subscriber, so once probe n arrived no earlier probe is still on its way.
 */
async function probe(pair: Pair, label: string): Promise<void> {
  const { counter } = pair;
  for (let i = 0; i < PROBE_ATTEMPTS; i++) {
    const n = i % 256;
    await pair.publish(Uint8Array.of(n));
    const deadline = performance.now() + PROBE_WAIT_MS;
    while (counter.probe !== n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (counter.probe === n) {
      counter.probing = false;
      return;
    }
  }
  throw new Error(`${label}: no probe crossed the cluster in ${PROBE_ATTEMPTS} attempts`);
}

type CrossbusBus = Awaited<ReturnType<Awaited<ReturnType<typeof loadCrossbus>>['connect']>>;

/** A crossbus publisher on `pubUrl` and subscriber on `subUrl`, both secure (the default mode). */
export async function crossbusPair(
  pubUrl: string,
  subUrl: string,
  topic: string,
  apps: { pub: AppCredentials; sub: AppCredentials },
): Promise<Pair> {
  const { connect } = await loadCrossbus();
  const counter = newCounter();
  const buses: CrossbusBus[] = [];
  let closing = false;
  const watch = (bus: CrossbusBus, who: string): void => {
    let lastError: string | undefined;
    bus.on('error', ({ error }) => {
      lastError ??= `${error.code}: ${error.message}`;
    });
    bus.on('closed', ({ error }) => {
      if (closing) return;
      const why = [error?.message, lastError].filter((x) => x !== undefined).join('; ');
      counter.failure ??= new Error(`crossbus ${who} connection closed${why ? `: ${why}` : ''}`);
    });
  };
  try {
    const sub = await connect(subUrl, { ...apps.sub, reconnect: false });
    buses.push(sub);
    watch(sub, 'subscriber');
    const subscription = sub.subscribe(topic, (msg) => {
      onDelivery(counter, msg.data instanceof Uint8Array ? msg.data : undefined);
    });
    await subscription.ready;
    const pub = await connect(pubUrl, { ...apps.pub, reconnect: false });
    buses.push(pub);
    watch(pub, 'publisher');
    const pair: Pair = {
      counter,
      publish: (payload) => pub.publish(topic, payload),
      async close() {
        closing = true;
        await Promise.all(buses.map((b) => b.close()));
      },
    };
    await probe(pair, 'crossbus');
    return pair;
  } catch (err) {
    closing = true;
    await Promise.all(buses.map((b) => b.close().catch(() => {})));
    throw err;
  }
}

/** A nats.js publisher on `pubServer` and subscriber on `subServer` (one server each: no other is tried). */
export async function natsPair(pubServer: string, subServer: string, topic: string, user: NatsUser): Promise<Pair> {
  const counter = newCounter();
  const conns: NatsConnection[] = [];
  let closing = false;
  const open = async (server: string, name: string): Promise<NatsConnection> => {
    const nc = await natsConnect({ servers: server, name, user: user.user, pass: user.password, reconnect: false });
    conns.push(nc);
    void nc.closed().then((err) => {
      if (!closing) counter.failure ??= new Error(`nats connection ${name} closed${err ? `: ${err.message}` : ''}`);
    });
    return nc;
  };
  try {
    const sub = await open(subServer, 'bench-sub');
    sub.subscribe(topic, {
      callback: (err, msg) => {
        if (err) counter.failure ??= err;
        else onDelivery(counter, msg.data);
      },
    });
    await sub.flush(); // the subscription is registered on its server
    const pub = await open(pubServer, 'bench-pub');
    const pair: Pair = {
      counter,
      publish: (payload) => {
        pub.publish(topic, payload);
        return undefined;
      },
      async close() {
        closing = true;
        await Promise.all(conns.map((nc) => nc.close()));
      },
    };
    await probe(pair, 'nats');
    return pair;
  } catch (err) {
    closing = true;
    await Promise.all(conns.map((nc) => nc.close().catch(() => {})));
    throw err;
  }
}

/** One timed phase (bench/lib/delivery-phase.ts) through `pair`. */
export function runPhase(pair: Pair, payload: Uint8Array, limits: PhaseLimits, label: string): Promise<PhaseResult> {
  return deliveryPhase(pair.counter, () => pair.publish(payload), payload.byteLength, limits, label);
}
