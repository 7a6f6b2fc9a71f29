/**
 * The Bus with OpenTelemetry spans (see BusTracing): what `connect()` from 'crossbus' builds on.
 * A subclass rather than a hook inside the Bus, so the page client (`crossbus/page`) carries not
 * one byte of it, and a bus without a tracer provider runs the Bus's own methods after one check.
 * Handlers get a `process` span; subscriptions and consumers read by iteration do not (their
 * messages still carry the context: `bus.tracing.creationContext(msg.headers)`).
 */
import type { Attributes } from '@opentelemetry/api';
import type { TransportConnector } from '../../core/transport/transport.js';
import type { ConsumerConfig } from '../../core/streams/config.js';
import { Bus, type BusPlugins, type PublishAck, type PublishOptions } from '../bus.js';
import type { StreamConsumer } from '../consumer.js';
import type { Message } from '../message.js';
import type { ConnectOptions } from '../options.js';
import type { RequestOptions, ServeOptions, ServiceHandler } from '../request-reply.js';
import type { StreamMessage } from '../stream-message.js';
import type { MessageHandler, SubscribeOptions, Subscription } from '../subscription.js';
import { ATTR, BusTracing, endWhenSettled } from './bus-tracing.js';
import { resolveTracing, type TracingOptions } from './tracing-options.js';

export interface TracedConnectOptions extends ConnectOptions {
  /**
   * OpenTelemetry spans for publishes, requests and handlers, their context carried in message
   * headers; `false` turns them off. @default {}: spans from the global tracer provider when one
   * is registered before connect(), none (and no cost) otherwise
   */
  tracing?: TracingOptions | false;
}

export class TracedBus extends Bus {
  /** The bus's spans; undefined when it makes none. */
  readonly tracing: BusTracing | undefined;
  /** True while serve() subscribes: the service's handler has its span already. */
  #subscribingService = false;

  /** @internal use connect() */
  constructor(connector: TransportConnector, options: TracedConnectOptions, plugins: BusPlugins = {}) {
    const resolved = resolveTracing(options.tracing);
    super(connector, options, plugins);
    this.tracing = resolved === undefined ? undefined : new BusTracing(resolved);
  }

  override publish(topic: string, data: unknown, options: PublishOptions & { durable: true }): Promise<PublishAck>;
  override publish(topic: string, data?: unknown, options?: PublishOptions): Promise<void>;
  // biome-ignore lint/suspicious/noConfusingVoidType: the implementation's type joins its overloads'
  override publish(topic: string, data?: unknown, options?: PublishOptions): Promise<void | PublishAck> {
    const tracing = this.tracing;
    if (tracing === undefined) return super.publish(topic, data, options);
    const attributes: Attributes = options?.msgId === undefined ? {} : { [ATTR.messageId]: options.msgId };
    const { span, headers } = tracing.startSend('publish', topic, options?.headers, attributes);
    return endWhenSettled(span, super.publish(topic, data, { ...options, headers }));
  }

  override requestMessage<T = unknown>(topic: string, data?: unknown, options: RequestOptions = {}): Promise<Message<T>> {
    const tracing = this.tracing;
    if (tracing === undefined) return super.requestMessage<T>(topic, data, options);
    const { span, headers } = tracing.startSend('request', topic, options.headers, {});
    return endWhenSettled(span, super.requestMessage<T>(topic, data, { ...options, headers }));
  }

  override subscribe<T = unknown>(topic: string, handler?: MessageHandler<T>, options?: SubscribeOptions): Subscription<T>;
  override subscribe<T = unknown>(topic: string, options?: SubscribeOptions): Subscription<T>;
  override subscribe<T = unknown>(topic: string, a?: MessageHandler<T> | SubscribeOptions, b?: SubscribeOptions): Subscription<T> {
    const tracing = this.tracing;
    if (typeof a !== 'function') return a === undefined ? super.subscribe<T>(topic, undefined, b) : super.subscribe<T>(topic, a);
    if (tracing === undefined || this.#subscribingService) return super.subscribe<T>(topic, a, b);
    const attributes: Attributes = b?.group === undefined ? {} : { [ATTR.group]: b.group };
    return super.subscribe<T>(topic, (m) => tracing.process(m, topic, attributes, a), b);
  }

  override serve<T = unknown>(topic: string, handler: ServiceHandler<T>, options: ServeOptions = {}): Subscription<T> {
    const tracing = this.tracing;
    if (tracing === undefined) return super.serve<T>(topic, handler, options);
    const attributes: Attributes = { [ATTR.group]: options.group ?? topic };
    this.#subscribingService = true;
    try {
      return super.serve<T>(topic, (m) => tracing.process(m, topic, attributes, handler), options);
    } finally {
      this.#subscribingService = false;
    }
  }

  override consume<T = unknown>(
    stream: string,
    options: ConsumerConfig = {},
    handler?: (msg: StreamMessage<T>) => unknown,
  ): StreamConsumer<T> {
    const tracing = this.tracing;
    if (tracing === undefined || handler === undefined) return super.consume<T>(stream, options, handler);
    const base: Attributes = { [ATTR.stream]: stream };
    if (options.durable !== undefined) base[ATTR.subscription] = options.durable;
    return super.consume<T>(stream, options, (m) =>
      tracing.process(m, stream, { ...base, [ATTR.streamSeq]: m.seq, [ATTR.deliveryCount]: m.deliveryCount }, handler),
    );
  }
}
