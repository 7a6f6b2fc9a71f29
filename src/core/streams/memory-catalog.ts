/** A StreamCatalog in memory: streams live as long as the hub process. */
import type { ResolvedStreamConfig } from './config.js';
import type { StoragePart, StoredConsumer, StreamCatalog } from './catalog.js';
import { MemoryStorage } from './memory-storage.js';
import type { StreamStorage } from './storage.js';

export class MemoryCatalog implements StreamCatalog {
  private readonly streams = new Map<string, ResolvedStreamConfig>();
  private readonly storages = new Map<string, MemoryStorage>();
  private readonly consumers = new Map<string, Map<string, StoredConsumer>>();

  constructor(private readonly clock: () => number = Date.now) {}

  async load(): Promise<ResolvedStreamConfig[]> {
    return [...this.streams.values()].map((c) => structuredClone(c));
  }

  async saveStream(config: ResolvedStreamConfig): Promise<void> {
    this.streams.set(config.name, structuredClone(config));
  }

  async deleteStream(name: string): Promise<void> {
    this.streams.delete(name);
    this.consumers.delete(name);
    for (const part of ['log', 'dlq']) this.storages.delete(`${name}/${part}`);
  }

  async openStorage(config: ResolvedStreamConfig, part: StoragePart): Promise<StreamStorage> {
    const key = `${config.name}/${part}`;
    const { maxAgeMs, maxBytes, maxMessages, maxMessagesPerTopic } = config;
    const retention = part === 'log' ? { maxAgeMs, maxBytes, maxMessages, maxMessagesPerTopic } : {};
    let s = this.storages.get(key);
    if (s === undefined) {
      s = new MemoryStorage(retention, this.clock);
      this.storages.set(key, s);
    } else s.reopen(retention); // the stream was updated: its messages stay
    return s;
  }

  async loadConsumers(stream: string): Promise<StoredConsumer[]> {
    return [...(this.consumers.get(stream)?.values() ?? [])].map((c) => structuredClone(c));
  }

  async saveConsumer(stream: string, consumer: StoredConsumer): Promise<void> {
    let m = this.consumers.get(stream);
    if (m === undefined) this.consumers.set(stream, (m = new Map()));
    m.set(consumer.config.durable, structuredClone(consumer));
  }

  async deleteConsumer(stream: string, durable: string): Promise<void> {
    this.consumers.get(stream)?.delete(durable);
  }
}
