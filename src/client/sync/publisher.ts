/**
 * Puts a replica's changes into the document's log, one at a time: a change is published durably
 * with `msgId` `${replica}:${rseq}`, and the next only after the hub stored it. A change the hub
 * did not answer (a timeout, a lost connection, a full queue) is sent again with the same msgId
 * once connected, so the stream's duplicate window stores it once; a change the hub refuses for
 * what it is (not allowed, too large) will never be stored and is handed back; anything else
 * stops the sending, and the change stays queued. Runtime-neutral.
 */
import { isCrossbusError, type CrossbusError, createError } from '../../core/errors/index.js';
import type { ErrorCode } from '../../core/errors/codes.js';
import type { PublishAck } from '../../core/streams/wire.js';
import { unrefTimer } from '../../core/util/timers.js';
import type { Bus } from '../bus.js';

/** Refusals of the message itself: sending it again cannot succeed. */
const REFUSED_CHANGE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CB_ERR_FORBIDDEN',
  'CB_ERR_FRAME_TOO_LARGE',
  'CB_ERR_PAYLOAD_INVALID',
  'CB_ERR_HEADERS_TOO_LARGE',
  'CB_ERR_TOPIC_INVALID',
  'CB_ERR_TOPIC_TOO_LONG',
  'CB_ERR_CONSENT_DENIED',
]);

/** What the publisher tells its document. */
export interface PublisherEvents {
  /** The hub stored the message (or had stored it before: `ack.duplicate`). */
  stored(msgId: string, ack: PublishAck): void;
  /** The hub refused the message for good; it was not stored. */
  refused(msgId: string, error: CrossbusError): void;
  /** Sending stopped on an error that is not the message's fault (the stream is gone, the bus closed); the message is still unsent. */
  stopped(msgId: string, error: CrossbusError): void;
}

export class ChangePublisher {
  readonly #bus: Bus;
  readonly #topic: string;
  readonly #retryMs: number;
  readonly #events: PublisherEvents;
  /** The message being sent, until it is stored, refused or sending stops. */
  #current: { msgId: string; payload: Uint8Array } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #offConnected: (() => void) | undefined;
  #closed = false;

  constructor(bus: Bus, topic: string, retryMs: number, events: PublisherEvents) {
    this.#bus = bus;
    this.#topic = topic;
    this.#retryMs = retryMs;
    this.#events = events;
  }

  /** Whether a message is being sent: the next waits. */
  get busy(): boolean {
    return this.#current !== undefined;
  }

  /** Sends one message; throws when one is being sent already (a caller's mistake). */
  send(msgId: string, payload: Uint8Array): void {
    if (this.#current !== undefined) throw createError('CB_ERR_INTERNAL', 'a change is already being sent');
    if (this.#closed) return;
    this.#current = { msgId, payload };
    this.#attempt();
  }

  #attempt(): void {
    const current = this.#current;
    if (current === undefined || this.#closed) return;
    this.#bus.publish(this.#topic, current.payload, { durable: true, msgId: current.msgId }).then(
      (ack) => {
        if (this.#current !== current) return;
        this.#current = undefined;
        this.#events.stored(current.msgId, ack);
      },
      (err: unknown) => this.#failed(current, err),
    );
  }

  #failed(current: { msgId: string; payload: Uint8Array }, err: unknown): void {
    if (this.#current !== current || this.#closed) return;
    const error = isCrossbusError(err) ? err : createError('CB_ERR_INTERNAL', 'publishing a change failed', { cause: err });
    if (REFUSED_CHANGE.has(error.code)) {
      this.#current = undefined;
      this.#events.refused(current.msgId, error);
      return;
    }
    const state = this.#bus.state;
    if (!error.retryable || state === 'closed' || state === 'draining') {
      this.#current = undefined;
      this.#events.stopped(current.msgId, error);
      return;
    }
    if (state === 'connected') {
      // Connected, yet not stored (a timeout, a busy hub): again after a pause.
      this.#timer = unrefTimer(
        setTimeout(() => {
          this.#timer = undefined;
          this.#attempt();
        }, this.#retryMs),
      );
      return;
    }
    // Reconnecting: again as soon as the connection is back.
    this.#offConnected ??= this.#bus.on('connected', () => {
      this.#offConnected?.();
      this.#offConnected = undefined;
      this.#attempt();
    });
  }

  /** Stops sending; a message being sent stays unconfirmed (it is in the store, and goes again on the next open). */
  close(): void {
    this.#closed = true;
    this.#current = undefined;
    clearTimeout(this.#timer);
    this.#offConnected?.();
    this.#offConnected = undefined;
  }
}
