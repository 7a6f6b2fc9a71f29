import { FrameWriter } from '../protocol/frame-writer.js';
import { RECORD_HEADROOM } from '../protocol/layout.js';
import { StreamFrameReader } from '../protocol/stream-reader.js';
import type { Transport } from '../transport/transport.js';
import type { FrameLimits } from '../limits.js';
import type { HubHandshake } from '../security/hub-handshake.js';
import type { SecureTransport } from '../security/secure-transport.js';
import type { InflightRequest } from './inflight.js';

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
 * One connected peer, as the broker sees it: its transport, its subscriptions, and its bounded
 * outbound queue. Frames for it are copied into `out` as they are routed and handed to the
 * transport in one batch when the transport has room.
 */
export class Session {
  state: SessionState = 'handshake';
  name = '';
  readonly subscriptions = new Map<number, RouteSubscription>();
  /** Outbound frames not yet handed to the transport. */
  readonly out = new FrameWriter(4096, RECORD_HEADROOM);
  queuedMessages = 0;
  /** True while the queue is over its bound and messages are being dropped ('drop' policy). */
  overflowing = false;
  dropped = 0;
  lastHeardAt: number;
  flushScheduled = false;
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly streamReader: StreamFrameReader | undefined;
  // security (undefined on an insecure hub)
  /** The record layer wrapping `transport`, when the hub has security. */
  secure: SecureTransport | undefined;
  handshake: HubHandshake | undefined;
  /** True while a handshake step waits for asynchronous crypto: frames meanwhile are refused. */
  busy = false;
  /** The authenticated app ('' before authentication or on an insecure hub). */
  app = '';
  keyId = '';
  /** Reply inbox prefix reserved for this connection ('_INBOX.<random>'). */
  inbox = '';
  /** Reply topics this connection may answer once: it received a request naming them. */
  readonly replyPermits = new Map<string, number>();
  /** Operations held for a person's consent. */
  held = 0;
  keyTimer: ReturnType<typeof setTimeout> | undefined;
  /** Requests delivered to this connection and not answered yet, by replyTo (see inflight.ts). */
  readonly inflight = new Map<string, InflightRequest>();
  /** The id of the last ACK frame processed and not yet confirmed (0: none). */
  ackConfirm = 0;
  // counters
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly seq: number,
    readonly connectionId: string,
    readonly transport: Transport,
    limits: FrameLimits,
    now: number,
  ) {
    this.lastHeardAt = now;
    this.streamReader = transport.framing === 'stream' ? new StreamFrameReader(limits) : undefined;
  }

  get queuedBytes(): number {
    return this.out.length;
  }
}
