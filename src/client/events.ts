import type { CrossbusError } from '../core/errors/index.js';
import type { EndpointEvent, MoveEvent } from './failover/events.js';

export type BusState = 'connecting' | 'connected' | 'reconnecting' | 'draining' | 'closed';

/** Typed events a Bus emits (`bus.on('state', ...)`). */
export interface BusEvents {
  state: { from: BusState; to: BusState };
  connected: { connectionId: string; hubId: string; reconnected: boolean };
  disconnected: { error: CrossbusError };
  reconnecting: { attempt: number; delayMs: number };
  /** Errors with no caller to reject: slow consumer notices, failing handlers, protocol errors. */
  error: { error: CrossbusError };
  closed: { error: CrossbusError | undefined };
  /** With several hubs (`connect([{ url, weight }, ...])`): a hub's health changed. */
  endpoint: EndpointEvent;
  /** With several hubs: the client is on another hub now. */
  move: MoveEvent;
}
