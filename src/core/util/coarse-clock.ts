import { microtask } from './microtask.js';

/**
 * A clock read at most once per job: calls in the same synchronous run (a batch of frames decoded
 * from one chunk) get the value of the first. For per-message checks such as rate limits, where
 * reading the clock (84 ns in Node on the test VM) costs more than the check itself. A whole
 * batch counts as arriving at once, which it did.
 */
export function coarseClock(clock: () => number = Date.now): () => number {
  let value = 0;
  let fresh = false;
  const expire = (): void => {
    fresh = false;
  };
  return () => {
    if (!fresh) {
      value = clock();
      fresh = true;
      microtask(expire);
    }
    return value;
  };
}
