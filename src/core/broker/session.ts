import type { Transport } from '../transport/transport.js';
import type { SecureTransport } from '../security/secure-transport.js';
import { SessionCounters } from './counters.js';
import { newSessionQueue, type SessionQueue } from './outbound-queues.js';
import { newSessionRouting, type SessionRouting } from './router.js';
import { newSessionAuth, type SessionAuth } from './session-auth.js';

/** A subscription as the broker indexes it. */
export interface RouteSubscription {
  readonly pattern: string;
  readonly group: string | undefined;
  /** Share of its group's messages, relative to the other members' weights (1..MAX_GROUP_WEIGHT). */
  readonly weight: number;
  readonly session: Session;
  readonly sid: number;
}

/** 'handshake': waiting for HELLO; 'auth': WELCOME sent, waiting for the client's AUTH proof. */
export type SessionState = 'handshake' | 'auth' | 'open' | 'closing' | 'closed';

/**
 * One connected peer, as the broker sees it. Its state is grouped by the module that writes it;
 * every other module sees that group read-only (the writer's module declares the group's type,
 * and only that module holds the writable one):
 *
 * - identity (fixed when the transport is accepted): seq, connectionId, transport (which always
 *   delivers whole frames: the broker reframes byte streams first);
 * - lifecycle (state, name, lastHeardAt, handshakeTimer): the SessionTable (session-table.ts);
 * - `queue`, the outbound queue (frames not yet handed to the transport, bounds, the drop
 *   episode, the pending ACK confirmation): OutboundQueues (outbound-queues.ts);
 * - `auth`, authentication and access state (record layer, app, inbox, reply permits, operations
 *   held for consent): the AccessGate (access-gate.ts);
 * - `routing`, subscriptions and requests in flight to this peer: the Router (router.ts);
 * - `counters`, messages and bytes in and out: incremented where counters.ts says.
 *
 * The groups are plain objects reached in one property load, so the per-message paths pay no
 * more than that for the split.
 */
export class Session {
  // lifecycle: written by the SessionTable only
  readonly state: SessionState = 'handshake';
  /** The name the peer gave in HELLO. */
  readonly name: string = '';
  readonly lastHeardAt: number;
  readonly handshakeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When the transport was accepted (the handshake's duration is measured from here). */
  readonly acceptedAt: number;

  /** Frames for the peer, copied in as they are routed and handed to the transport in one batch. */
  readonly queue: SessionQueue = newSessionQueue();
  readonly auth: SessionAuth;
  readonly routing: SessionRouting = newSessionRouting();
  readonly counters = new SessionCounters();

  constructor(
    readonly seq: number,
    readonly connectionId: string,
    readonly transport: Transport,
    now: number,
    /** The record layer wrapping `transport`, when the hub has security. */
    secure: SecureTransport | undefined,
  ) {
    this.lastHeardAt = now;
    this.acceptedAt = now;
    this.auth = newSessionAuth(secure);
  }

  get queuedBytes(): number {
    return this.queue.out.length;
  }
}
