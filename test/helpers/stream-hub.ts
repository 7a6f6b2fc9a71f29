/**
 * An in-process hub with durable streams (a Broker, a StreamService and a catalog), and buses
 * connected to it over the memory transport. Everything opened here is closed by `close()`.
 */
import { Broker } from '../../src/core/broker/broker.js';
import type { Session } from '../../src/core/broker/session.js';
import type { StreamCatalog } from '../../src/core/streams/catalog.js';
import { MemoryCatalog } from '../../src/core/streams/memory-catalog.js';
import { StreamService, type StreamEvent, type StreamServiceOptions } from '../../src/core/streams/stream-service.js';
import type { BrokerSecurity } from '../../src/core/security/broker-security.js';
import type { SystemResponders } from '../../src/core/broker/system-requests.js';
import { connectWith, type Bus, type ConnectOptions, type StreamMessage } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';

export interface StreamHub {
  broker: Broker;
  service: StreamService<Session>;
  events: StreamEvent[];
  connect(options?: ConnectOptions): Promise<Bus>;
  close(): Promise<void>;
}

export async function startStreamHub(
  options: {
    catalog?: StreamCatalog;
    security?: BrokerSecurity;
    /** Requests the hub answers itself; given the service once it is open. */
    systemResponders?: (service: StreamService<Session>) => SystemResponders;
  } & Omit<StreamServiceOptions, 'catalog'> = {},
): Promise<StreamHub> {
  const { catalog, security: _security, systemResponders, ...rest } = options;
  const service = new StreamService<Session>({ saveDelayMs: 10, ...rest, catalog: catalog ?? new MemoryCatalog() });
  await service.open();
  const broker = new Broker({
    heartbeatMs: 0,
    streams: service,
    ...(options.security ? { security: options.security } : {}),
    ...(systemResponders ? { systemResponders: systemResponders(service) } : {}),
  });
  const events: StreamEvent[] = [];
  broker.events.on('stream', (e) => events.push(e));
  const buses: Bus[] = [];
  return {
    broker,
    service,
    events,
    async connect(o: ConnectOptions = {}) {
      const extra = o.secret !== undefined ? { security: { crypto: createNodeCryptoProvider(), ...o.security } } : {};
      const bus = await connectWith(memoryConnector(broker), { requestTimeoutMs: 3_000, ...o, ...extra });
      buses.push(bus);
      return bus;
    },
    async close() {
      await Promise.allSettled(buses.map((b) => b.close()));
      await broker.close(50);
      await service.close();
    },
  };
}

/** The next `n` messages of a consumer's iterator (fewer when it ends first). */
export async function take<T>(it: AsyncIterator<StreamMessage<T>>, n: number): Promise<StreamMessage<T>[]> {
  const out: StreamMessage<T>[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}
