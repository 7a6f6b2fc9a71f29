import type { Bus } from '../bus.js';
import type { EndpointHealth } from './endpoint-health.js';

/**
 * One heartbeat on `bus`: a PING round trip (the hub answers after everything sent before it,
 * so a backlog shows as latency), recorded in `health` as an answer or, after `timeoutMs`, a
 * miss. Resolves when it is recorded; never rejects.
 */
export function heartbeat(bus: Bus, health: EndpointHealth, timeoutMs: number, now: () => number): Promise<void> {
  const started = performance.now();
  return bus.flush(timeoutMs).then(
    () => health.answer(performance.now() - started, now()),
    () => {
      // A bus that closed meanwhile says nothing about the hub's heartbeat: its close is reported apart.
      if (bus.state === 'connected') health.miss(now());
    },
  );
}
