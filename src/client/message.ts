import { PayloadType, type Envelope, type Headers } from '../core/protocol/envelope.js';
import { decodeJson } from '../core/util/json.js';

/** Sends a reply to a request message (the Bus's). */
export type Responder = (msg: Message, data: unknown, headers?: Headers) => Promise<void>;

const EMPTY_HEADERS: Headers = Object.freeze(Object.create(null) as Headers);

/** A message as a subscriber sees it. `data` is decoded on first access. */
export class Message<T = unknown> {
  readonly topic: string;
  /** Topic a reply goes to ('' when none). Use `respond()` rather than publishing to it yourself. */
  readonly replyTo: string;
  readonly headers: Readonly<Headers>;
  /** The raw payload bytes. */
  readonly bytes: Uint8Array;
  readonly payloadType: PayloadType;
  readonly sid: number;
  readonly seq: number;
  /** When the publisher created it (ms since epoch), 0 if unset. */
  readonly timestamp: number;
  #decoded = false;
  #value: unknown;
  readonly #responder: Responder | undefined;

  constructor(env: Envelope, responder?: Responder) {
    this.#responder = responder;
    this.topic = env.topic;
    this.replyTo = env.replyTo;
    this.headers = env.headers ?? EMPTY_HEADERS;
    const p = env.payload;
    // A plain Uint8Array view (not a Node Buffer), so data looks the same in every runtime.
    this.bytes = p.constructor === Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
    this.payloadType = env.payloadType;
    this.sid = env.sid;
    this.seq = env.seq;
    this.timestamp = env.timestamp;
  }

  /**
   * The payload: the JSON value that was published, a Uint8Array for bytes, undefined for none.
   * Throws CB_ERR_PAYLOAD_INVALID if a JSON payload does not parse.
   */
  get data(): T {
    if (!this.#decoded) {
      this.#value =
        this.payloadType === PayloadType.JSON ? decodeJson(this.bytes) : this.payloadType === PayloadType.BYTES ? this.bytes : undefined;
      this.#decoded = true;
    }
    return this.#value as T;
  }

  /** Sends a reply to a request. Rejects if the message was not a request. */
  respond(data: unknown, headers?: Headers): Promise<void> {
    if (this.#responder === undefined || this.replyTo === '') {
      return Promise.reject(new TypeError('this message is not a request: it has no replyTo'));
    }
    return this.#responder(this, data, headers);
  }
}
