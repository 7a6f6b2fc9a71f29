/**
 * Spans for a bus, by the OpenTelemetry messaging conventions: a publish or a request is a PRODUCER
 * span whose context rides in the message's headers (W3C `traceparent`/`tracestate` by default);
 * a subscriber's, service's or stream consumer's handler runs inside a CONSUMER `process` span,
 * a child of that context and linked to it. So one trace follows a message through every hop:
 * the hub passes headers unchanged, bridges copy them, streams store them with the message.
 * A malformed trace header is ignored: the process span then starts a trace of its own.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import type { Headers } from '../../core/protocol/envelope.js';
import { headerCorrelationId } from '../../core/util/correlation.js';
import type { Message } from '../message.js';
import type { ResolvedTracing } from './tracing-options.js';

/** The instrumentation's name, as tracers and backends show it. */
export const TRACER_NAME = 'crossbus';
export const MESSAGING_SYSTEM = 'crossbus';

/** Attribute names of the OpenTelemetry messaging semantic conventions (and ours, under `crossbus.`). */
export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  template: 'messaging.destination.template',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  group: 'messaging.consumer.group.name',
  subscription: 'messaging.destination.subscription.name',
  errorType: 'error.type',
  stream: 'crossbus.stream.name',
  streamSeq: 'crossbus.stream.seq',
  deliveryCount: 'crossbus.delivery_count',
} as const;

export type SendOperation = 'publish' | 'request';

/** A send span and the headers that carry its context. */
export interface SendSpan {
  readonly span: Span;
  readonly headers: Headers;
}

export class BusTracing {
  readonly #tracer: Tracer;
  readonly #propagator: TextMapPropagator;

  constructor(resolved: ResolvedTracing) {
    this.#tracer = resolved.tracerProvider.getTracer(TRACER_NAME);
    this.#propagator = resolved.propagator;
  }

  /** The trace context a message carries, or undefined when it carries none (or a malformed one). */
  creationContext(headers: Readonly<Headers>): Context | undefined {
    const ctx = this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    return trace.getSpanContext(ctx) === undefined ? undefined : ctx;
  }

  /**
   * Starts the PRODUCER span of a publish or request to `topic` and returns a copy of `headers`
   * carrying its context. The parent is the active span; without one, a trace context the caller
   * put in the headers, so a hand-made `traceparent` is continued rather than replaced.
   */
  startSend(operation: SendOperation, topic: string, headers: Headers | undefined, attributes: Attributes): SendSpan {
    let parent = context.active();
    if (trace.getSpan(parent) === undefined && headers !== undefined) parent = this.creationContext(headers) ?? parent;
    const span = this.#tracer.startSpan(
      `${operation} ${topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...attributes,
          ...conversation(headers),
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.destination]: topic,
          [ATTR.operationType]: 'send',
          [ATTR.operationName]: operation,
        },
      },
      parent,
    );
    const out: Headers = headers === undefined ? {} : { ...headers };
    this.#propagator.inject(trace.setSpan(parent, span), out, defaultTextMapSetter);
    return { span, headers: out };
  }

  /**
   * Runs `handler(msg)` inside a CONSUMER `process` span: the child of the context the message
   * carries (else of the active one), with a link to it. `template` is what the handler
   * subscribed to (a pattern), so span names stay few however many topics match.
   */
  process<M extends Message<unknown>, R>(msg: M, template: string, attributes: Attributes, handler: (msg: M) => R): R {
    const creation = this.creationContext(msg.headers);
    const parent = creation ?? context.active();
    const link = creation === undefined ? undefined : trace.getSpanContext(creation);
    const span = this.#tracer.startSpan(
      `process ${template}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...attributes,
          ...conversation(msg.headers),
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.destination]: msg.topic,
          [ATTR.template]: template,
          [ATTR.operationType]: 'process',
          [ATTR.operationName]: 'process',
        },
        links: link === undefined ? undefined : [{ context: link }],
      },
      parent,
    );
    return context.with(trace.setSpan(parent, span), () => settle(span, handler, msg));
  }
}

/** The message's correlation id as the conversation id, when the sender set one. */
function conversation(headers: Readonly<Headers> | undefined): Attributes | undefined {
  const id = headerCorrelationId(headers);
  return id === '' ? undefined : { [ATTR.conversationId]: id };
}

/** Ends `span` when `work` is done: at once, or when the promise it returned settles. */
function settle<A, R>(span: Span, work: (arg: A) => R, arg: A): R {
  let result: R;
  try {
    result = work(arg);
  } catch (err) {
    endWithError(span, err);
    throw err;
  }
  if (isThenable(result)) {
    result.then(
      () => span.end(),
      (err: unknown) => endWithError(span, err),
    );
  } else {
    span.end();
  }
  return result;
}

/** Ends a send span when its promise settles; resolves and rejects as the promise does. */
export function endWhenSettled<T>(span: Span, sent: Promise<T>): Promise<T> {
  return sent.then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      endWithError(span, err);
      throw err;
    },
  );
}

export function endWithError(span: Span, err: unknown): void {
  const code = (err as { code?: unknown } | null)?.code;
  span.setAttribute(ATTR.errorType, typeof code === 'string' ? code : ((err as Error | null)?.name ?? 'Error'));
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}
