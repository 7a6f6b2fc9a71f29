/**
 * Runs a callback after pending I/O, as soon as possible: setImmediate where it exists (Node),
 * a MessageChannel elsewhere (browsers, workers), which avoids setTimeout's 4 ms clamp.
 */
export type Scheduler = (fn: () => void) => void;

export function createScheduler(): Scheduler {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') {
    const si = g.setImmediate;
    return (fn) => void si(fn);
  }
  if (typeof MessageChannel === 'function') {
    const queue: Array<() => void> = [];
    const channel = new MessageChannel();
    channel.port1.addEventListener('message', () => {
      const fns = queue.splice(0);
      for (const fn of fns) fn();
    });
    channel.port1.start(); // a listener added this way waits for start(), unlike onmessage
    return (fn) => {
      queue.push(fn);
      if (queue.length === 1) channel.port2.postMessage(0);
    };
  }
  return (fn) => void setTimeout(fn, 0);
}
