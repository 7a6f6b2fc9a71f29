/**
 * connect()'s `tracing` option: where spans come from and how their context rides in message
 * headers. Off costs nothing: without a tracer provider (given here, or registered globally with
 * the OpenTelemetry API before connect()), the bus creates no span and adds no header.
 */
import { ProxyTracerProvider, trace, type TextMapPropagator, type TracerProvider } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ConfigError } from '../../core/errors/index.js';

export interface TracingOptions {
  /**
   * Where spans come from. @default the global provider (`trace.setGlobalTracerProvider`) when
   * one is registered before connect(); none otherwise, and then no span is made
   */
  tracerProvider?: TracerProvider;
  /** Writes the trace context into message headers and reads it back. @default W3C Trace Context (traceparent, tracestate) */
  propagator?: TextMapPropagator;
}

/** The tracing a bus does, resolved once at connect(); undefined: none. */
export interface ResolvedTracing {
  readonly tracerProvider: TracerProvider;
  readonly propagator: TextMapPropagator;
}

/** The API's no-op provider, which a global proxy hands out while nothing is registered. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** The global tracer provider, or undefined while none is registered. */
function registeredGlobalProvider(): TracerProvider | undefined {
  const global = trace.getTracerProvider();
  if (global instanceof ProxyTracerProvider) return global.getDelegate() === NOOP_PROVIDER ? undefined : global;
  return global;
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;

/** Checks the option and picks the provider; undefined when the bus makes no span. */
export function resolveTracing(option: TracingOptions | false | undefined): ResolvedTracing | undefined {
  if (option === false) return undefined;
  if (option !== undefined && !isObject(option)) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', 'tracing must be false or { tracerProvider?, propagator? }', {
      details: { option: 'tracing' },
    });
  }
  const given = option?.tracerProvider;
  if (given !== undefined && (!isObject(given) || typeof (given as Partial<TracerProvider>).getTracer !== 'function')) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', 'tracing.tracerProvider must be an OpenTelemetry TracerProvider (getTracer)', {
      details: { option: 'tracing.tracerProvider' },
    });
  }
  const propagator = option?.propagator;
  if (
    propagator !== undefined &&
    (!isObject(propagator) || typeof propagator.inject !== 'function' || typeof propagator.extract !== 'function')
  ) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', 'tracing.propagator must be an OpenTelemetry TextMapPropagator (inject, extract)', {
      details: { option: 'tracing.propagator' },
    });
  }
  const tracerProvider = given ?? registeredGlobalProvider();
  if (tracerProvider === undefined) return undefined;
  return { tracerProvider, propagator: propagator ?? new W3CTraceContextPropagator() };
}
