import type { SessionState } from './session.js';
import type { AuditEvent } from '../security/audit.js';
import type { StreamEvent } from '../streams/stream-service.js';

/** Typed events the broker emits. The hub, metrics and the dashboard subscribe to these. */
export interface BrokerEvents {
  connection: { connectionId: string; name: string; peer: string; transport: string };
  disconnection: { connectionId: string; name: string; code: number; reason: string };
  subscription: { connectionId: string; name: string; sid: number; pattern: string; group: string | undefined };
  unsubscription: { connectionId: string; name: string; sid: number; pattern: string; group: string | undefined };
  'slow-consumer': {
    connectionId: string;
    name: string;
    policy: 'disconnect' | 'drop';
    /** 'queue': its own queue overflowed; 'hub-memory': the hub-wide bound was hit and it had the largest backlog. */
    reason: 'queue' | 'hub-memory';
    maxQueuedBytes: number;
    maxQueuedMessages: number;
    maxTotalQueuedBytes: number;
    queuedBytes: number;
    queuedMessages: number;
  };
  'protocol-error': { connectionId: string; name: string; code: string; message: string };
  'no-responders': { connectionId: string; topic: string };
  /** Every security decision the audit log records: authentications, refusals, integrity failures, rate limits, abuse. */
  security: AuditEvent;
  /** Durable streams: created, deleted, purged, quarantined, a dead letter stored, a storage error. */
  stream: StreamEvent;
}

export interface ConnectionStats {
  connectionId: string;
  name: string;
  state: SessionState;
  peer: string;
  transport: string;
  subscriptions: number;
  queuedBytes: number;
  queuedMessages: number;
  transportBufferedBytes: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface BrokerStats {
  hubId: string;
  connections: ConnectionStats[];
  subscriptions: number;
  /** Bytes queued for all connections right now. */
  queuedBytes: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  errors: number;
  dropped: number;
  slowConsumers: number;
  noResponders: number;
}
