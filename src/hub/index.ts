export { startHub } from './hub.js';
export type { CertificateReload, Hub, HubOptions, HubStaticApp, ReloadResult } from './hub.js';
// Static web apps: startHub({ staticApps }), hub.staticApps.
export {
  DEFAULT_STATIC_CACHE_CONTROL,
  DEFAULT_STATIC_FRAME_ANCESTORS,
  DEFAULT_STATIC_MAX_CONCURRENT_REQUESTS,
  DEFAULT_STATIC_MAX_FILE_BYTES,
  DEFAULT_STATIC_REQUEST_TIMEOUT_MS,
  type StaticAppOptions,
} from '../node/static-apps/index.js';
export type { HubEvents } from './events.js';
export { Broker } from '../core/broker/broker.js';
export type { AcceptOptions, BrokerOptions, SlowConsumerPolicy } from '../core/broker/options.js';
export type { Metric, MetricsSource } from '../core/metrics/metric.js';
export type { BrokerEvents, BrokerStats, ConnectionStats } from '../core/broker/events.js';
export type { StreamStorageChoice } from './stream-setup.js';
export { FileCatalog, STREAMS_DIR_NAME, type FileCatalogOptions } from '../node/streams/file-catalog.js';
export { SegmentLog } from '../node/streams/segment-log.js';
export { StreamService, MemoryCatalog } from '../core/index.js';
// A Broker of your own can also take connections from worker_threads (`workerConnector` in 'crossbus').
export { listenPorts } from '../transports/port/connect.js';
// And over shared memory (`shmConnector` in 'crossbus').
export { listenShm, type ShmListenOptions } from '../transports/shm/connect.js';
export { createPortTransport, type PortLike, type PortTransportInfo } from '../transports/port/port-transport.js';
export { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULT_STREAM_STORAGE } from './defaults.js';
// TCP, Unix sockets and TLS: startHub({ listeners }) opens them; listenSocket() feeds a Broker of your own.
export type { HubListenerLimits, HubListenerOptions } from './socket-listeners.js';
export {
  listenSocket,
  certificateFingerprint,
  type SocketListener,
  type SocketListenOptions,
  type SocketListenerLimits,
  type TlsServerOptions,
  type TlsReloadEvent,
  type TlsReloadOutcome,
} from '../transports/net/socket-listener.node.js';
// Alerts: startHub({ alerts }), hub.alerts, and the topics the hub answers and publishes on.
export type { HubAlertsOption } from './alerts-setup.js';
export type { AlertRuleInput, AlertsConfigInput } from '../core/alerts/alert-schema.js';
export type { AlertNotification, AlertService, AlertsSnapshot } from '../core/alerts/alert-service.js';
export type { Alert, AlertState } from '../core/alerts/alert-state.js';
export type { Silence } from '../core/alerts/silences.js';
export { ALERTS_LIST_TOPIC, ALERTS_SILENCE_ADD_TOPIC, ALERTS_SILENCE_REMOVE_TOPIC } from '../core/alerts/alert-requests.js';
export { ALERTS_TOPIC_PREFIX } from '../core/alerts/sinks.js';
// The app runtime (issue 21): node apps' instances as supervised child processes.
export {
  Supervisor,
  type InstanceState,
  type InstanceStatus,
  type SupervisorEvents,
  type SupervisorOptions,
  type UnhealthyReason,
} from '../node/apps/supervisor.js';
export type { RestartPolicyOptions } from '../node/apps/restart-policy.js';
export { loadAppManifest, type LoadedAppManifest } from '../node/apps/manifest-file.js';
export { parseAppManifest, type AppManifest, type AppManifestInput } from '../core/apps/manifest.js';
