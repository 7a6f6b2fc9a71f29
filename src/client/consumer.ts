import type { ConsumerConfig } from '../core/streams/config.js';
import type { CrossbusError } from '../core/errors/index.js';
import { Kind, PayloadType, envelope, type Envelope } from '../core/protocol/envelope.js';
import type { StreamOp } from '../core/streams/wire.js';
import { encodeJson } from '../core/util/json.js';
import { Subscription } from './subscription.js';
import { StreamMessage, type Settler } from './stream-message.js';

interface Owner {
  unsubscribeSid(sid: number): void;
  reportError(error: CrossbusError, context: Record<string, unknown>): void;
}

/**
 * A stream consumer on the client: an async iterable of StreamMessages (or a callback). `ready`
 * settles once the hub attached it. It re-attaches by itself after a reconnect; a durable one
 * resumes where it stood, and deliveries that were unsettled on the lost connection come again.
 */
export class StreamConsumer<T = unknown> extends Subscription<T> {
  /** Where an ephemeral consumer re-attaches after a reconnect, instead of its deliver policy. */
  #resumeAt: number | undefined;

  constructor(
    owner: Owner,
    sid: number,
    /** The stream's name. */
    readonly stream: string,
    readonly config: ConsumerConfig,
    handler: ((msg: StreamMessage<T>) => unknown) | undefined,
    private readonly settler: Settler,
  ) {
    // The hub sends at most maxAckPending unsettled messages: that bounds this queue.
    super(owner, sid, stream, undefined, 1, handler as never, Number.MAX_SAFE_INTEGER);
  }

  /** @internal */
  override messageFor(env: Envelope): StreamMessage<T> {
    return new StreamMessage<T>(env, this.stream, this.settler);
  }

  /**
   * @internal Re-attach after a reconnect at the message after `seq` rather than by the deliver
   * policy (a KV watcher that saw every message up to `seq`).
   */
  resumeAfter(seq: number): void {
    this.#resumeAt = seq + 1;
  }

  /** @internal attaching a consumer is a STREAM operation. */
  override subscribeFrame(id: number): Envelope {
    const at = this.#resumeAt;
    const config = at === undefined ? this.config : { ...this.config, deliver: { seq: at } };
    const op: StreamOp = { op: 'consume', stream: this.stream, config };
    return envelope(Kind.STREAM, { id, sid: this.sid, payloadType: PayloadType.JSON, payload: encodeJson(op) });
  }

  override [Symbol.asyncIterator](): AsyncIterator<StreamMessage<T>> {
    return super[Symbol.asyncIterator]() as AsyncIterator<StreamMessage<T>>;
  }

  /** Leaves the consumer; a durable one keeps its position on the hub, and what this client held goes to the other members. */
  close(): Promise<void> {
    this.unsubscribe();
    return Promise.resolve();
  }
}
