import { ConnectionError, type CrossbusError } from '../core/errors/index.js';
import { Kind, PayloadType, envelope, type Envelope } from '../core/protocol/envelope.js';
import { encodeJson } from '../core/util/json.js';
import { isThenable } from '../core/util/thenable.js';
import { Message, type Responder } from './message.js';

/** A subscription callback. Its return value is ignored; a rejected promise is reported as an error event. */
export type MessageHandler<T = unknown> = (msg: Message<T>) => unknown;

export interface SubscribeOptions {
  /** Share messages with other subscribers of the same group: each message goes to one of them. @default none */
  group?: string;
  /**
   * This member's relative share of its group's messages (integer 1..1000). Needs `group`.
   * @default 1
   */
  weight?: number;
  /**
   * Messages an async-iterator subscription may hold before the consumer takes them; past this,
   * messages are dropped and the bus emits CB_ERR_SLOW_CONSUMER. @default DEFAULT_SUBSCRIPTION_MAX_PENDING
   */
  maxPending?: number;
}

interface Owner {
  unsubscribeSid(sid: number): void;
  reportError(error: CrossbusError, context: Record<string, unknown>): void;
}

/**
 * A subscription: with a callback, or consumed as an async iterator. `ready` settles once the hub
 * confirmed (or refused) it; awaiting it is optional.
 */
export class Subscription<T = unknown> implements AsyncIterable<Message<T>> {
  readonly ready: Promise<void>;
  /** Set once the subscription has ended, with the reason if it failed. */
  closed = false;
  /** Messages dropped because an iterator consumer fell behind. */
  dropped = 0;
  delivered = 0;
  #resolveReady!: () => void;
  #rejectReady!: (e: CrossbusError) => void;
  #confirmed = false;
  readonly #queue: Message<T>[] = [];
  #waiter: { resolve: (r: IteratorResult<Message<T>>) => void; reject: (e: unknown) => void } | undefined;
  #failure: CrossbusError | undefined;
  readonly #owner: Owner;
  readonly #handler: MessageHandler<T> | undefined;
  readonly #maxPending: number;

  /** Why the subscription ended, if it failed (refused, or ended by the hub: e.g. CB_ERR_FORBIDDEN after a config reload). */
  get error(): CrossbusError | undefined {
    return this.#failure;
  }

  constructor(
    owner: Owner,
    readonly sid: number,
    readonly topic: string,
    readonly group: string | undefined,
    readonly weight: number,
    handler: MessageHandler<T> | undefined,
    maxPending: number,
  ) {
    this.#owner = owner;
    this.#handler = handler;
    this.#maxPending = maxPending;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A refusal nobody awaits must not become an unhandled rejection; awaiting still sees it.
    this.ready.catch(() => {});
  }

  /** @internal the message a MESSAGE frame for this subscription becomes. */
  messageFor(env: Envelope, responder: Responder): Message<T> {
    return new Message<T>(env, responder);
  }

  /** @internal the frame that subscribes it (again, after a reconnect). */
  subscribeFrame(id: number): Envelope {
    const weight = this.weight === 1 ? {} : { payloadType: PayloadType.JSON, payload: encodeJson({ weight: this.weight }) };
    return envelope(Kind.SUBSCRIBE, { id, sid: this.sid, topic: this.topic, group: this.group ?? '', ...weight });
  }

  /** @internal the hub confirmed the subscription. */
  confirm(): void {
    if (this.#confirmed) return;
    this.#confirmed = true;
    this.#resolveReady();
  }

  /** @internal the hub refused it, or the bus closed. */
  fail(error: CrossbusError): void {
    if (this.closed) return;
    this.#failure = error;
    this.#rejectReady(error);
    this.end();
  }

  /** @internal */
  push(msg: Message<T>): void {
    if (this.closed) return;
    this.delivered++;
    if (this.#handler !== undefined) {
      try {
        const r = this.#handler(msg);
        if (isThenable(r)) {
          r.then(undefined, (err: unknown) => this.#handlerFailed(err));
        }
      } catch (err) {
        this.#handlerFailed(err);
      }
      return;
    }
    if (this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ value: msg, done: false });
      return;
    }
    if (this.#queue.length >= this.#maxPending) {
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.#owner.reportError(
          new ConnectionError(
            'CB_ERR_SLOW_CONSUMER',
            `subscription ${this.topic} dropped ${this.dropped} messages: its consumer is too slow`,
            {
              details: { sid: this.sid, topic: this.topic, dropped: this.dropped, maxPending: this.#maxPending },
            },
          ),
          { sid: this.sid },
        );
      }
      return;
    }
    this.#queue.push(msg);
  }

  #handlerFailed(err: unknown): void {
    const error = new ConnectionError('CB_ERR_HANDLER_FAILED', `subscription handler for ${this.topic} threw`, { cause: err });
    this.#owner.reportError(error, { sid: this.sid, topic: this.topic });
  }

  /** Stops the subscription. Messages already queued for an iterator are still handed out. */
  unsubscribe(): void {
    if (this.closed) return;
    this.#owner.unsubscribeSid(this.sid);
    this.end();
  }

  /** @internal */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.#confirmed)
      this.#rejectReady(this.#failure ?? new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'subscription ended before the hub confirmed it'));
    if (this.#waiter !== undefined && this.#queue.length === 0) {
      const w = this.#waiter;
      this.#waiter = undefined;
      if (this.#failure) w.reject(this.#failure);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** Messages waiting in an iterator subscription. */
  get pending(): number {
    return this.#queue.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    if (this.#handler !== undefined) throw new TypeError('a subscription with a callback cannot be iterated');
    return {
      next: () => {
        const msg = this.#queue.shift();
        if (msg !== undefined) return Promise.resolve({ value: msg, done: false });
        if (this.closed) return this.#failure ? Promise.reject(this.#failure) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.#waiter = { resolve, reject };
        });
      },
      return: () => {
        this.unsubscribe();
        this.#queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
