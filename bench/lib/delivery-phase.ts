/**
 * One timed publish-and-deliver phase, shared by the suites that count deliveries on a
 * subscriber: publish up to `count` messages (fewer when `maxMs` passes first), then wait until
 * every one arrived. Rate = deliveries / seconds from the first publish to the last delivery. A
 * loss (no new delivery for `idleMs`), an extra delivery or a payload of the wrong size fails it.
 */

/** What the subscriber saw; reset at the start of each phase. */
export interface DeliveryCounter {
  size: number;
  delivered: number;
  bad: number;
  lastDelivery: number;
  /** Set when a connection dies; the running phase fails with it. */
  failure: Error | undefined;
  /** Called by the subscriber on a delivery while the phase waits for the last ones. */
  wake: (() => void) | undefined;
}

export interface PhaseLimits {
  /** Messages to publish. */
  count: number;
  /** Publishing stops after this long even if the count is not reached. */
  maxMs: number;
  /** Publisher yields to the event loop every N messages (0 = never). */
  paceEvery: number;
  /** After publishing: no new delivery for this long means messages were lost (a failure). */
  idleMs: number;
}

export interface PhaseResult {
  delivered: number;
  seconds: number;
  /** Publishing was cut by the time bound before reaching the count. */
  cut: boolean;
}

const yieldNow = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export async function deliveryPhase(
  counter: DeliveryCounter,
  /** Publishes one message (a promise when the client has backpressure, as crossbus's publish). */
  publish: () => Promise<unknown> | undefined,
  payloadBytes: number,
  limits: PhaseLimits,
  label: string,
): Promise<PhaseResult> {
  if (counter.failure) throw counter.failure;
  counter.size = payloadBytes;
  counter.delivered = 0;
  counter.bad = 0;
  const every = limits.paceEvery > 0 ? limits.paceEvery : Number.MAX_SAFE_INTEGER;
  const start = performance.now();
  counter.lastDelivery = start;
  let published = 0;
  let cut = false;
  while (published < limits.count) {
    const p = publish();
    if (p !== undefined) await p;
    published++;
    if (published % every === 0 || published % 1000 === 0) {
      if (published % every === 0) await yieldNow();
      if (counter.failure) throw counter.failure;
      if (performance.now() - start > limits.maxMs) {
        cut = true;
        break;
      }
    }
  }
  for (;;) {
    if (counter.failure) throw counter.failure;
    if (counter.delivered >= published) break;
    const before = counter.delivered;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 50);
      counter.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    counter.wake = undefined;
    if (counter.delivered === before && performance.now() - Math.max(counter.lastDelivery, start) > limits.idleMs) {
      throw new Error(`${label}: ${published - counter.delivered} of ${published} messages not delivered after ${limits.idleMs} ms idle`);
    }
  }
  if (counter.delivered > published) throw new Error(`${label}: ${counter.delivered - published} more deliveries than published`);
  if (counter.bad > 0) throw new Error(`${label}: ${counter.bad} deliveries had an unexpected payload size`);
  return { delivered: counter.delivered, seconds: (counter.lastDelivery - start) / 1000, cut };
}
