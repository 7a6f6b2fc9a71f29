/**
 * Timers that must not keep a process alive (heartbeats, deadlines, retention checks): Node's
 * timers are objects with `unref()`, a browser's are numbers and keep nothing alive anyway.
 */
export function unrefTimer<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
