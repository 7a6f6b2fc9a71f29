/**
 * The part of the client's durable-streams API that `crossbus stream` and `crossbus dlq` use.
 * The commands take any object of this shape (the real Bus, or a fake in unit tests).
 */

export interface StreamInfo {
  name: string;
  topics: string[];
  maxAgeMs?: number;
  maxBytes?: number;
  maxMessages?: number;
  duplicateWindowMs: number;
  durability: 'fsync' | 'interval';
  deadLetterOf?: string;
  state: { firstSeq: number; lastSeq: number; messages: number; bytes: number; firstTime?: number; lastTime?: number };
  consumers: Array<{ durable: string; ackFloor: number; pending: number; waiting: number; members: number }>;
  quarantined?: { code: string; message: string };
}

export interface StreamRecord {
  seq: number;
  time: number;
  topic: string;
  headers?: Record<string, string>;
  data: unknown;
  msgId?: string;
}

export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface StreamsClient {
  streams: {
    list(): Promise<StreamInfo[]>;
    info(name: string): Promise<StreamInfo>;
    purge(name: string, options?: { upToSeq?: number }): Promise<{ purged: number }>;
    read(name: string, options?: { fromSeq?: number; maxMessages?: number }): Promise<StreamRecord[]>;
  };
  publish(topic: string, data: unknown, options: { durable: true; msgId: string; headers?: Record<string, string> }): Promise<PublishAck>;
  close(): Promise<void>;
}
