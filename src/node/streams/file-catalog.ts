/**
 * Streams on the local disk, under `<data>/streams`:
 *
 *   <NAME>/stream.json              the stream's configuration
 *   <NAME>/log/                     its segment log (segment-log.ts)
 *   <NAME>/dlq/                     its dead letters, a segment log too
 *   <NAME>/consumers/<durable>.json a durable consumer: settings and position
 *   <NAME>/dlq-consumers/<d>.json   consumers of the dead-letter stream
 *
 * Small files are replaced atomically (write, fsync, rename), so a crash leaves the old or the
 * new version. A consumer's position is saved shortly after it changes, not on every ack: after a
 * crash it redelivers from the last saved position (at least once).
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoragePart, StoredConsumer, StreamCatalog } from '../../core/streams/catalog.js';
import {
  DLQ_SUFFIX,
  NAME_PATTERN,
  resolveConsumerConfig,
  resolveStreamConfig,
  type ResolvedStreamConfig,
} from '../../core/streams/config.js';
import type { StreamStorage } from '../../core/streams/storage.js';
import { silentLogger, type Logger } from '../../core/util/logger.js';
import { PRIVATE_DIR_MODE, readIfExists, replaceFileAtomically, unlinkIfExists } from '../atomic-file.js';
import type { StorageFs } from './file-ops.js';
import { SegmentLog } from './segment-log.js';

/** The folder of the data directory that holds the streams. */
export const STREAMS_DIR_NAME = 'streams';
const CONFIG_FILE = 'stream.json';

export interface FileCatalogOptions {
  /** Torn tails, unreadable configs and failed saves are reported here. @default silentLogger */
  logger?: Logger;
  /** File operations of the logs (tests inject faults). @default the real file system */
  fs?: StorageFs;
  /** How often an `interval` stream fsyncs. @default 200 */
  syncIntervalMs?: number;
  /** @default 64 MiB */
  maxSegmentBytes?: number;
  /** The active segment is sealed early, to be compacted, once this large and half deleted. @default 1 MiB */
  minCompactBytes?: number;
}

export class FileCatalog implements StreamCatalog {
  private readonly logger: Logger;

  constructor(
    readonly dir: string,
    private readonly o: FileCatalogOptions = {},
  ) {
    this.logger = o.logger ?? silentLogger;
  }

  async load(): Promise<ResolvedStreamConfig[]> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const out: ResolvedStreamConfig[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (!NAME_PATTERN.test(name)) continue;
      const text = await readIfExists(join(this.dir, name, CONFIG_FILE));
      if (text === undefined) continue;
      try {
        out.push(resolveStreamConfig(JSON.parse(text)));
      } catch (err) {
        this.logger.error({ stream: name, error: String(err) }, 'stream: its configuration cannot be read; the stream is not opened');
      }
    }
    return out;
  }

  async saveStream(config: ResolvedStreamConfig): Promise<void> {
    await replaceFileAtomically(join(this.dir, config.name, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  }

  async deleteStream(name: string): Promise<void> {
    // The config goes first: a crash halfway leaves files that no stream claims, never a stream without its log.
    await unlinkIfExists(join(this.dir, name, CONFIG_FILE));
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  openStorage(config: ResolvedStreamConfig, part: StoragePart): Promise<StreamStorage> {
    const { maxAgeMs, maxBytes, maxMessages, maxMessagesPerTopic } = config;
    const retention = part === 'log' ? strip({ maxAgeMs, maxBytes, maxMessages, maxMessagesPerTopic }) : {};
    const options = {
      retention,
      durability: part === 'log' ? config.durability : ('fsync' as const),
      logger: this.logger,
      ...(this.o.fs !== undefined ? { fs: this.o.fs } : {}),
      ...(this.o.syncIntervalMs !== undefined ? { syncIntervalMs: this.o.syncIntervalMs } : {}),
      ...(this.o.maxSegmentBytes !== undefined ? { maxSegmentBytes: this.o.maxSegmentBytes } : {}),
      ...(this.o.minCompactBytes !== undefined ? { minCompactBytes: this.o.minCompactBytes } : {}),
    };
    return SegmentLog.open(join(this.dir, config.name, part), options);
  }

  async loadConsumers(stream: string): Promise<StoredConsumer[]> {
    const dir = this.consumerDir(stream);
    let files: string[];
    try {
      files = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: StoredConsumer[] = [];
    for (const f of files.sort()) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const text = await readIfExists(join(dir, f));
      if (text === undefined) continue;
      try {
        const raw = JSON.parse(text) as StoredConsumer;
        const config = resolveConsumerConfig(raw.config);
        const st = raw.state;
        if (config.durable === undefined || !validConsumerState(st)) throw new Error('not a consumer state');
        out.push({ config: { ...config, durable: config.durable }, state: st });
      } catch (err) {
        this.logger.error({ stream, file: f, error: String(err) }, 'stream consumer: its saved state cannot be read; it is left out');
      }
    }
    return out;
  }

  async saveConsumer(stream: string, consumer: StoredConsumer): Promise<void> {
    await replaceFileAtomically(join(this.consumerDir(stream), `${consumer.config.durable}.json`), `${JSON.stringify(consumer)}\n`);
  }

  async deleteConsumer(stream: string, durable: string): Promise<void> {
    await unlinkIfExists(join(this.consumerDir(stream), `${durable}.json`));
  }

  private consumerDir(stream: string): string {
    return stream.endsWith(DLQ_SUFFIX)
      ? join(this.dir, stream.slice(0, -DLQ_SUFFIX.length), 'dlq-consumers')
      : join(this.dir, stream, 'consumers');
  }
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A consumer position as saved: checked before a stored one is restored (the JetStream catalog's too). */
export function validConsumerState(st: unknown): st is StoredConsumer['state'] {
  if (typeof st !== 'object' || st === null) return false;
  const s = st as StoredConsumer['state'];
  return (
    Number.isSafeInteger(s.nextSeq) &&
    s.nextSeq >= 0 &&
    Array.isArray(s.plan) &&
    s.plan.every((n) => Number.isSafeInteger(n)) &&
    Array.isArray(s.outstanding) &&
    s.outstanding.every((e) => Array.isArray(e) && e.length === 2 && e.every((n) => Number.isSafeInteger(n)))
  );
}
