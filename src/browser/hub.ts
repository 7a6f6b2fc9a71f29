/**
 * `crossbus/hub` in a browser, a worker or an extension's service worker: what it takes to host a
 * hub there. The routing core (`Broker`, `HubSecurity` over WebCrypto, a config parsed as the Node
 * hub parses it), the listeners that turn the browser's channels into connections (windows,
 * iframes and popups; workers and MessagePorts; an extension's runtime ports), the in-memory
 * connector the host's own client uses, and what joins such a hub to a Node hub. In Node,
 * `crossbus/hub` is `startHub()` instead (src/hub/index.ts).
 */

// the broker and its security
export { Broker } from '../core/broker/broker.js';
export type { AcceptOptions, BrokerOptions, SlowConsumerPolicy } from '../core/broker/options.js';
export type { BrokerEvents, BrokerStats, ConnectionStats } from '../core/broker/events.js';
export type { Metric, MetricsSource } from '../core/metrics/metric.js';
export { HubSecurity, type HubSecurityOptions } from '../core/security/hub-security.js';
export { createWebCryptoProvider, type SubtleCryptoLike } from '../core/security/webcrypto-provider.js';
export { nullAuditSink, type AuditEvent, type AuditSink } from '../core/security/audit.js';
export { parseHubConfig, type HubConfig, type HubConfigInput } from '../core/config/schema.js';
export { normalizeOrigin, originAllowed, originProblem } from '../core/security/origins.js';

// listeners: each turns a browser channel into a connection for `broker.accept()`
export {
  listenWindow,
  type ListenWindowOptions,
  type RefusedConnection,
  type WindowListener,
} from '../transports/postmessage/index.js';
export { listenPorts } from '../transports/port/connect.js';
export { listenShm, type ShmListenOptions } from '../transports/shm/connect.js';
export { createPortTransport, type PortLike, type PortTransportInfo } from '../transports/port/port-transport.js';
export { listenExtension, type ListenExtensionOptions } from '../transports/extension/listen-extension.js';
export type { ChromeRuntime, RuntimePort } from '../transports/extension/chrome-types.js';

// the host's own client, durable streams in memory, and the way to a Node hub
export { createMemoryPair, memoryConnector } from '../transports/memory/memory-transport.js';
export { StreamService, type StreamServiceOptions } from '../core/streams/stream-service.js';
export { MemoryCatalog } from '../core/streams/memory-catalog.js';
export { forwardDurablePublishes, type DurableForwarderOptions } from '../client/durable-forwarder.js';
export { bridge, type Bridge, type BridgeOptions } from '../client/bridge.js';
export type { Transport, TransportConnector } from '../core/transport/transport.js';
