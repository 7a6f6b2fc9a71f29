/**
 * Waiting for a Bus to be connected. A request written while the bus is (re)connecting would
 * carry a reply inbox the hub has not given the new connection, and be refused: the Bus from
 * `connect()` (SyncingBus) and LiveSettings wait with this first. Runtime-neutral.
 */
import type { Bus } from './bus.js';

/** True once `bus` is connected; false when it closes first, or after `timeoutMs` (never, when undefined). */
export function whenConnected(bus: Bus, timeoutMs?: number): Promise<boolean> {
  if (bus.state === 'connected') return Promise.resolve(true);
  if (bus.state === 'closed') return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (ok: boolean): void => {
      offConnected();
      offClosed();
      if (timer !== undefined) clearTimeout(timer);
      resolve(ok);
    };
    const offConnected = bus.on('connected', () => done(true));
    const offClosed = bus.on('closed', () => done(false));
    if (timeoutMs !== undefined) timer = setTimeout(() => done(false), timeoutMs);
  });
}

/** Whether `bus` is connecting or reconnecting (a request now must wait). */
export const isConnecting = (bus: Bus): boolean => bus.state === 'connecting' || bus.state === 'reconnecting';
