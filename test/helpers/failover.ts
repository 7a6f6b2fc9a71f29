/**
 * The FailoverBus the failover tests use: app `test` on a preferred hub (weight 1) with a backup
 * behind it (weight 0), reconnecting and probing quickly so that a move happens within a test.
 */
import { connect, type FailoverBus } from '../../src/node/index.js';

export interface FailoverHub {
  url: string;
  name: string;
}

export interface QuickFailoverOptions {
  /** Heartbeat between the client and each hub. @default 250 */
  heartbeatMs?: number;
  /** How long the preferred hub must stay healthy before the client moves back to it. */
  recoveryMs: number;
  /** @default 3_000 */
  timeoutMs?: number;
  /** @default the bus's own */
  requestTimeoutMs?: number;
}

export function connectFailover(
  preferred: FailoverHub,
  backup: FailoverHub,
  secret: string,
  o: QuickFailoverOptions,
): Promise<FailoverBus> {
  return connect(
    [
      { ...preferred, weight: 1 },
      { ...backup, weight: 0 },
    ],
    {
      name: 'test',
      secret,
      timeoutMs: o.timeoutMs ?? 3_000,
      ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      failover: { heartbeatMs: o.heartbeatMs ?? 250, recoveryMs: o.recoveryMs },
    },
  );
}
