/** Several hubs: health, weighted balancing and failover (not part of crossbus/page). */
export { FailoverBus, connectServers, type MultiHubOptions } from './failover-bus.js';
export { HubSet, type EndpointSnapshot } from './hub-set.js';
export { EndpointHealth, type EndpointState, type HealthCause, type HealthPolicy } from './endpoint-health.js';
export { LatencyStats } from './latency-stats.js';
export { effectiveWeights, pickEndpoint, type Weighted } from './balancer.js';
export { resolveFailoverOptions, resolveServers, type FailoverOptions, type ServerSpec } from './options.js';
export type { EndpointEvent, MoveEvent, MoveReason } from './events.js';
