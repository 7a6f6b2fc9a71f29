/** Resource pools: any resource, bus connections among them (`BusPool` in the client). */
export { Pool } from './pool.js';
export { resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions } from './options.js';
export type { AcquireOptions, PoolEvents, PoolFactory, PoolResourceState, PoolStats } from './events.js';
