import { createScheduler, type Scheduler } from '../util/scheduler.js';

/**
 * `bufferedAmount` for transports whose postMessage never blocks (ports, extension ports): the
 * bytes posted since the event loop last came round. Writers see them and yield; on the next
 * turn the count resets and `onDrain` fires.
 */
export class PostedBytes {
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly onDrain: () => void, private readonly schedule: Scheduler = createScheduler()) {}

  get amount(): number {
    return this.bytes;
  }

  add(n: number): void {
    this.bytes += n;
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      this.bytes = 0;
      this.onDrain();
    });
  }
}
