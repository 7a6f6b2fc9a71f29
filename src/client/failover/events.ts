/** The typed events of a client with several hubs, emitted on its Bus (`bus.on('move', ...)`). */
import type { EndpointState, HealthCause } from './endpoint-health.js';

/** A hub's health changed. */
export interface EndpointEvent {
  /** The hub's name (its URL without credentials or query, unless configured). */
  readonly name: string;
  readonly from: EndpointState;
  readonly to: EndpointState;
  readonly cause: HealthCause;
  /** The latency average in ms at the change (NaN before the first round trip). */
  readonly rttMs: number;
}

/** Why the client is on another hub now. */
export type MoveReason = 'initial' | 'failover' | 'return';

/** The client is connected to another hub (subscriptions, services and unacknowledged durable publishes went with it). */
export interface MoveEvent {
  /** The hub it left; undefined for the first connection. */
  readonly from: string | undefined;
  readonly to: string;
  readonly reason: MoveReason;
}
