import type { CrossbusError } from '../core/errors/index.js';

interface Entry<T> {
  resolve(value: T): void;
  reject(error: CrossbusError): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Operations waiting for an answer, by correlation id, each with its own timeout: subscribe
 * confirmations, flushes and acked publishes (answered by OK/PONG), and requests (answered by a
 * reply). Every entry settles exactly once: answer, error, timeout or rejectAll.
 */
export class PendingTable<T> {
  private readonly entries = new Map<number, Entry<T>>();

  add(id: number, timeoutMs: number, onTimeout: () => CrossbusError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.entries.delete(id);
        reject(onTimeout());
      }, timeoutMs);
      this.entries.set(id, { resolve, reject, timer });
    });
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns false when nothing waits under `id` (late answer after a timeout). */
  resolve(id: number, value: T): boolean {
    const e = this.take(id);
    e?.resolve(value);
    return e !== undefined;
  }

  reject(id: number, error: CrossbusError): boolean {
    const e = this.take(id);
    e?.reject(error);
    return e !== undefined;
  }

  rejectAll(error: CrossbusError): void {
    for (const id of [...this.entries.keys()]) this.reject(id, error);
  }

  private take(id: number): Entry<T> | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    this.entries.delete(id);
    clearTimeout(e.timer);
    return e;
  }
}
