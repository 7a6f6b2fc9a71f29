/**
 * Key-value buckets for the page client (`crossbus/kv`): `createKv(bus)` gives a page client's
 * Bus (with the streams plugin) what `bus.kv` is on the Bus `connect()` from 'crossbus' makes.
 */
export * from '../client/kv/index.js';
