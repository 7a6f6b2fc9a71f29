/**
 * `bus.kv`: key-value buckets on a Bus with the streams plugin. `createKv(bus)` makes one for any
 * such Bus (a page client's, from 'crossbus/kv'); `connect()` from 'crossbus' gives a Bus that has
 * it as `bus.kv`. Runtime-neutral.
 */
import { isCrossbusError } from '../../core/errors/index.js';
import type { Bus } from '../bus.js';
import { KvBucket } from './bucket.js';
import { KV_STREAM_PREFIX, bucketStream, checkBucketName } from '../../core/kv/names.js';
import { type KvBucketOptions, type KvBucketStatus, bucketStreamConfig, statusOf } from '../../core/kv/options.js';

export class KvApi {
  readonly #bus: Bus;

  /** @internal use createKv(), or `bus.kv` */
  constructor(bus: Bus) {
    this.#bus = bus;
    void bus.streams; // a Bus without the streams plugin fails here, saying how to get it
  }

  /**
   * Opens bucket `name`, creating it when it does not exist. Options given for a bucket that
   * exists with other settings: CB_ERR_STREAM_EXISTS (nothing changes); no options: the bucket
   * is opened as it is.
   */
  async bucket(name: string, options?: KvBucketOptions): Promise<KvBucket> {
    checkBucketName(name);
    const config = bucketStreamConfig(name, options ?? {});
    try {
      await this.#bus.streams.create(config);
    } catch (err) {
      // The hub answers an identical config with the stream, and another one with EXISTS.
      const same = isCrossbusError(err) && err.code === 'CB_ERR_STREAM_EXISTS' && err.details?.stream === config.name;
      if (!same || err.details?.pattern !== undefined || options !== undefined) throw err;
    }
    return new KvBucket(this.#bus, name, config.name);
  }

  /** Deletes bucket `name` and every value in it. */
  async delete(name: string): Promise<void> {
    checkBucketName(name);
    await this.#bus.streams.delete(bucketStream(name));
  }

  /** The buckets this app may read. */
  async list(): Promise<KvBucketStatus[]> {
    const streams = await this.#bus.streams.list();
    return streams
      .filter((s) => s.name.startsWith(KV_STREAM_PREFIX) && s.deadLetterOf === undefined)
      .map((s) => statusOf(s.name.slice(KV_STREAM_PREFIX.length), s));
  }
}

/** `bus.kv` for a Bus with the streams plugin (a page client's with createBusStreams). */
export function createKv(bus: Bus): KvApi {
  return new KvApi(bus);
}
