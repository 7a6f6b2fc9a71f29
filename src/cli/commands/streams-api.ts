/**
 * The part of the client's durable-streams API that `crossbus stream` and `crossbus dlq` use. The
 * commands take any object of this shape: the real Bus, or a fake in unit tests.
 */
import type { PublishAck, StreamInfo, StreamRecord } from '../../client/index.js';
import type { Headers } from '../../core/protocol/envelope.js';
import type { ConsumerConfig, StreamConfig } from '../../core/streams/config.js';
import type { ConsumerInfo } from '../../core/streams/wire.js';

export type { ConsumerConfig, ConsumerInfo, StreamConfig };

export type { PublishAck, StreamInfo, StreamRecord };

export interface StreamsClient {
  streams: {
    create(config: StreamConfig): Promise<StreamInfo>;
    update(config: StreamConfig): Promise<StreamInfo>;
    delete(name: string): Promise<void>;
    addConsumer(stream: string, config: ConsumerConfig & { durable: string }): Promise<ConsumerInfo & { stream: string }>;
    deleteConsumer(stream: string, durable: string): Promise<void>;
    list(): Promise<StreamInfo[]>;
    info(name: string): Promise<StreamInfo>;
    purge(name: string, options?: { upToSeq?: number }): Promise<{ purged: number }>;
    read(name: string, options?: { fromSeq?: number; maxMessages?: number }): Promise<StreamRecord[]>;
  };
  publish(topic: string, data: unknown, options: { durable: true; msgId: string; headers?: Headers }): Promise<PublishAck>;
  close(): Promise<void>;
}
