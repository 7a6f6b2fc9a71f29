/**
 * Durable streams on the client, as a plugin of the Bus: `publish(…, { durable: true })`,
 * `consume()`, `bus.streams` and the settlements of stream deliveries. `connect()` from 'crossbus'
 * always plugs it in; the page client (`crossbus/page`) leaves it out unless asked
 * (`connect(connector, options, { streams: createBusStreams })`), which keeps what a page
 * downloads small. Runtime-neutral.
 */
import { ConfigError, ConnectionError, type CrossbusError } from '../core/errors/index.js';
import { Kind, PayloadType, envelope, type Envelope, type Headers, type PayloadFields } from '../core/protocol/envelope.js';
import { resolveConsumerConfig, streamNameProblem, type ConsumerConfig } from '../core/streams/config.js';
import { MAX_MSG_ID_LENGTH, type AckPayload, type PublishAck, type StreamOp } from '../core/streams/wire.js';
import { decodeJson, encodeJson } from '../core/util/json.js';
import { StreamConsumer } from './consumer.js';
import { DurablePublisher } from './durable-publisher.js';
import type { StreamMessage } from './stream-message.js';
import { StreamsApi } from './streams.js';
import type { Subscription } from './subscription.js';

/** What the streams plugin needs from its Bus. */
export interface StreamsHost {
  opId(): number;
  /** Appends a frame to the outgoing batch (throws a typed error when it cannot). */
  write(env: Envelope): void;
  /** Waits for the hub's OK (or ERROR) to operation `id`. */
  trackOp(id: number, timeoutMs: number): Promise<Envelope>;
  /** Throws when the bus is closed or draining. */
  checkOpen(): void;
  /** Whether settlements can be sent now (connected, or draining). */
  canSettle(): boolean;
  readonly requestTimeoutMs: number;
  /** Gives a new subscription its sid; `start` registers it and subscribes it (now, or once connected). */
  newSid(): number;
  start(sub: Subscription<unknown>): void;
  unsubscribeSid(sid: number): void;
  reportError(error: CrossbusError, context: Record<string, unknown>): void;
}

/** The Bus's side of the plugin: its API, and the frames and connection events that concern it. */
export interface BusStreams {
  readonly api: StreamsApi;
  publish(topic: string, msgId: string | undefined, headers: Headers | undefined, payload: PayloadFields): Promise<PublishAck>;
  consume<T>(stream: string, options: ConsumerConfig, handler: ((msg: StreamMessage<T>) => unknown) | undefined): StreamConsumer<T>;
  /** An OK nobody else was waiting for; true when it was the plugin's. */
  onOk(env: Envelope): boolean;
  /** An ERROR answering operation `id`; true when it was the plugin's. */
  onError(id: number, error: CrossbusError): boolean;
  /** The hub confirmed every settlement up to `env.id`. */
  onAck(env: Envelope): void;
  connectionLost(error: CrossbusError): void;
  reconnected(): void;
  closed(error: CrossbusError): void;
}

export type BusStreamsFactory = (host: StreamsHost) => BusStreams;

/** The streams plugin. */
export const createBusStreams: BusStreamsFactory = (host) => new ClientStreams(host);

class ClientStreams implements BusStreams {
  readonly api: StreamsApi;
  /** Durable publishes waiting for the hub's acknowledgement (resent after a reconnect). */
  private readonly durables: DurablePublisher;
  /** Settlements (ACK frames) sent and not yet confirmed, by id, in the order sent. */
  private readonly acks = new Map<number, { resolve: () => void; reject: (e: CrossbusError) => void }>();

  constructor(private readonly host: StreamsHost) {
    this.api = new StreamsApi((op) => this.streamOp(op));
    this.durables = new DurablePublisher({ opId: () => host.opId(), write: (env) => host.write(env) });
  }

  publish(topic: string, msgId: string | undefined, headers: Headers | undefined, payload: PayloadFields): Promise<PublishAck> {
    if (msgId !== undefined && (typeof msgId !== 'string' || msgId.length === 0 || msgId.length > MAX_MSG_ID_LENGTH)) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `msgId must be a string of 1 to ${MAX_MSG_ID_LENGTH} characters`, {
        details: { option: 'msgId' },
      });
    }
    return this.durables.publish(topic, msgId, headers, payload, this.host.requestTimeoutMs);
  }

  consume<T>(stream: string, options: ConsumerConfig, handler: ((msg: StreamMessage<T>) => unknown) | undefined): StreamConsumer<T> {
    const host = this.host;
    const config: ConsumerConfig = { ...options };
    if (options.backoffMs !== undefined) config.backoffMs = [...options.backoffMs];
    const consumer = new StreamConsumer<T>(host, host.newSid(), stream, config, handler, this.settle);
    try {
      host.checkOpen();
      const problem = streamNameProblem(stream);
      if (problem !== undefined)
        throw new ConfigError('CB_ERR_INVALID_OPTION', `stream name ${problem}`, { details: { option: 'stream' } });
      resolveConsumerConfig(config);
    } catch (err) {
      consumer.fail(err as CrossbusError);
      return consumer;
    }
    host.start(consumer as Subscription<unknown>);
    return consumer;
  }

  /** One STREAM operation; resolves with the hub's JSON answer. */
  private streamOp<R>(op: StreamOp): Promise<R> {
    try {
      this.host.checkOpen();
      const id = this.host.opId();
      // Written before the answer is awaited, so that a frame that cannot be written leaves none waiting.
      this.host.write(envelope(Kind.STREAM, { id, payloadType: PayloadType.JSON, payload: encodeJson(op) }));
      return this.host.trackOp(id, this.host.requestTimeoutMs).then((ok) => decodeJson(ok.payload) as R);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends one settlement of a stream delivery; resolves when the hub confirmed it. */
  private readonly settle = (sid: number, seq: number, ack: AckPayload): Promise<void> => {
    if (!this.host.canSettle()) {
      return Promise.reject(
        new ConnectionError('CB_ERR_CONNECTION_LOST', 'not connected: the delivery will come again', { details: { sid, seq } }),
      );
    }
    const id = this.host.opId();
    let env: Envelope;
    if (ack.op === 'ack') {
      const t = ack.token >>> 0;
      env = envelope(Kind.ACK, {
        id,
        sid,
        seq,
        payloadType: PayloadType.BYTES,
        payload: new Uint8Array([t >>> 24, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff]),
      });
    } else {
      env = envelope(Kind.ACK, { id, sid, seq, payloadType: PayloadType.JSON, payload: encodeJson(ack) });
    }
    const settled = new Promise<void>((resolve, reject) => {
      this.acks.set(id, { resolve, reject });
      try {
        this.host.write(env);
      } catch (err) {
        this.acks.delete(id);
        reject(err);
      }
    });
    // `m.ack()` without await is common: a refusal must not become an unhandled rejection.
    settled.catch(() => {});
    return settled;
  };

  onOk(env: Envelope): boolean {
    return this.durables.onOk(env);
  }

  onError(id: number, error: CrossbusError): boolean {
    const waiter = this.acks.get(id);
    if (waiter !== undefined) {
      this.acks.delete(id);
      waiter.reject(error);
      return true;
    }
    return this.durables.onError(id, error);
  }

  onAck(env: Envelope): void {
    // Every settlement up to this id is confirmed (refused ones were answered by an ERROR before).
    for (const [id, waiter] of this.acks) {
      this.acks.delete(id);
      waiter.resolve();
      if (id === env.id) break;
    }
  }

  connectionLost(error: CrossbusError): void {
    this.rejectAcks(error);
    this.durables.connectionLost();
  }

  reconnected(): void {
    this.durables.resend(); // durable publishes the lost connection took with it, same msgIds: stored once
  }

  closed(error: CrossbusError): void {
    this.rejectAcks(error);
    this.durables.rejectAll(error);
  }

  private rejectAcks(error: CrossbusError): void {
    const waiters = [...this.acks.values()];
    this.acks.clear();
    for (const w of waiters) w.reject(error);
  }
}
