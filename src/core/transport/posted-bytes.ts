import { createScheduler, type Scheduler } from '../util/scheduler.js';

/**
 * Bytes a transport may post without reporting them as buffered. postMessage never blocks, so a
 * small post is as good as written (like a small write that a socket's kernel buffer takes at
 * once); counting it would cost a scheduled task per message, which doubles the latency of a
 * round trip in a browser.
 */
export const POSTED_BYTES_SLACK = 64 * 1024;

/**
 * `bufferedAmount` for transports whose postMessage never blocks (ports, extension ports): the
 * bytes posted since the count was last reset. Once they pass POSTED_BYTES_SLACK, writers see them
 * and yield; on the next turn of the event loop the count resets and `onDrain` fires.
 */
export class PostedBytes {
  #bytes = 0;
  #scheduled = false;

  constructor(
    private readonly onDrain: () => void,
    private readonly schedule: Scheduler = createScheduler(),
  ) {}

  get amount(): number {
    return this.#scheduled ? this.#bytes : 0;
  }

  add(n: number): void {
    this.#bytes += n;
    if (this.#scheduled || this.#bytes <= POSTED_BYTES_SLACK) return;
    this.#scheduled = true;
    this.schedule(() => {
      this.#scheduled = false;
      this.#bytes = 0;
      this.onDrain();
    });
  }
}
