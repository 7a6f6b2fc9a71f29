/**
 * Creating one resource: the factory tried `1 + retryAttempts` times, `retryDelay` apart, and
 * never faster than `maxCreateRate` per second across the pool (a pool refilling after an outage
 * must not storm the server that just came back).
 */
import { ConnectionError } from '../errors/index.js';
import { TokenBucket } from '../security/token-bucket.js';
import type { ResolvedPoolOptions } from './options.js';

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class ResourceCreator<R> {
  readonly #bucket: TokenBucket;

  constructor(
    private readonly create: () => Promise<R>,
    private readonly options: ResolvedPoolOptions,
    /** Told of every failed attempt. */
    private readonly onAttemptFailed: (error: unknown, attempt: number, willRetry: boolean) => void,
    private readonly isOpen: () => boolean,
  ) {
    this.#bucket = new TokenBucket({
      perSecond: options.maxCreateRate,
      burst: Math.max(1, Math.min(options.maxSize, options.maxCreateRate)),
    });
  }

  /** Resolves with a new resource, or rejects with the last attempt's error. */
  async run(): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      for (let wait = this.#bucket.take(); wait > 0; wait = this.#bucket.take()) await delay(wait);
      try {
        return await this.create();
      } catch (error) {
        const willRetry = attempt <= this.options.retryAttempts && this.isOpen();
        this.onAttemptFailed(error, attempt, willRetry);
        if (!willRetry) throw error;
      }
      await delay(this.options.retryDelay);
      if (!this.isOpen()) throw new ConnectionError('CB_ERR_POOL_CLOSED', 'the pool closed while creating a resource');
    }
  }
}
