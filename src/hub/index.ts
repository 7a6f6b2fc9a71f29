export { startHub, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './hub.js';
export type { Hub, HubOptions } from './hub.js';
export { Broker } from '../core/broker/broker.js';
export * from '../core/broker/options.js';
export type { BrokerEvents, BrokerStats, ConnectionStats } from '../core/broker/events.js';
export { DEFAULT_STREAM_STORAGE, type StreamStorageChoice } from './stream-setup.js';
export { FileCatalog, STREAMS_DIR_NAME, type FileCatalogOptions } from '../node/streams/file-catalog.js';
export { SegmentLog } from '../node/streams/segment-log.js';
export { StreamService, MemoryCatalog } from '../core/index.js';
