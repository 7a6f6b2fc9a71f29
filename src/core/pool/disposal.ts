/**
 * Ending resources through the factory's `destroy`: a throw or a rejection becomes an event (the
 * resource is out of the pool all the same), and a drain waits for the destroys still running.
 */
import type { PoolFactory } from './events.js';

export class Disposal<R> {
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly factory: PoolFactory<R>,
    /** Told when the factory's destroy throws or rejects. */
    private readonly onError: (resource: R, error: unknown) => void,
  ) {}

  /** Calls the factory's destroy; an asynchronous one is awaited by `settled()`. */
  dispose(resource: R): void {
    const destroying = this.#destroy(resource);
    if (destroying === undefined) return;
    this.#running.add(destroying);
    destroying.then(() => this.#running.delete(destroying));
  }

  /** Settles once every destroy started so far has. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.#running]);
  }

  #destroy(resource: R): Promise<void> | undefined {
    const onError = (error: unknown): void => this.onError(resource, error);
    try {
      const result = this.factory.destroy?.(resource);
      if (result !== undefined && typeof result.then === 'function') return Promise.resolve(result).catch(onError);
    } catch (error) {
      onError(error);
    }
    return undefined;
  }
}
