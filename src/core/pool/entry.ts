import type { PoolResourceState } from './events.js';

/** One resource a pool holds: its state, and since when it has been idle. */
export class PoolEntry<R> {
  state: PoolResourceState = 'AVAILABLE';
  idleSince = 0;
  constructor(readonly resource: R) {}
}
