/**
 * OpenTelemetry export for crossbus's own processes (the hub and the CLI's client commands): when
 * the standard OTLP environment names an endpoint, a tracer provider with a batch span processor
 * and the OTLP/HTTP exporter is registered globally, so every bus the process opens traces
 * (see TracedBus); when none is named, nothing is registered and tracing costs nothing. The
 * exporter itself reads its settings from the same environment (`OTEL_EXPORTER_OTLP_HEADERS` for
 * credentials, timeouts, compression): no credential ever sits on a command line.
 */
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '../../core/errors/index.js';
import { VERSION } from '../version.js';

export const ENV_TRACES_ENDPOINT = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
export const ENV_ENDPOINT = 'OTEL_EXPORTER_OTLP_ENDPOINT';
export const ENV_SERVICE_NAME = 'OTEL_SERVICE_NAME';
export const ENV_SDK_DISABLED = 'OTEL_SDK_DISABLED';
export const ENV_TRACES_EXPORTER = 'OTEL_TRACES_EXPORTER';

/** How long a process waits at exit for its last spans to be exported. */
export const DEFAULT_TRACE_FLUSH_TIMEOUT_MS = 2_000;

export interface OtlpTracing {
  /** Where spans go (without credentials: those stay in the environment). */
  readonly endpoint: string;
  readonly serviceName: string;
  /** Exports what is buffered and stops; bounded by `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

/** The traces endpoint the environment names, or undefined when it names none or turns tracing off. */
export function otlpEndpointFrom(env: Env): string | undefined {
  if (nonEmpty(env[ENV_SDK_DISABLED])?.toLowerCase() === 'true') return undefined;
  if (nonEmpty(env[ENV_TRACES_EXPORTER])?.toLowerCase() === 'none') return undefined;
  const specific = nonEmpty(env[ENV_TRACES_ENDPOINT]);
  const base = nonEmpty(env[ENV_ENDPOINT]);
  const endpoint = specific ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (endpoint === undefined) return undefined;
  const option = specific !== undefined ? ENV_TRACES_ENDPOINT : ENV_ENDPOINT;
  const invalid = (message: string): ConfigError => new ConfigError('CB_ERR_INVALID_OPTION', message, { details: { option } });
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalid(`${option} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`the OTLP endpoint must be http:// or https://, got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid('the OTLP endpoint must not carry credentials: put them in OTEL_EXPORTER_OTLP_HEADERS');
  }
  return url.href;
}

/**
 * Registers OTLP/HTTP export when `env` names an endpoint; undefined (and nothing registered)
 * otherwise. Throws CB_ERR_INVALID_OPTION for an endpoint that is not an http(s) URL.
 */
export function startOtlpTracing(env: Env, defaultServiceName: string): OtlpTracing | undefined {
  const endpoint = otlpEndpointFrom(env);
  if (endpoint === undefined) return undefined;
  const serviceName = nonEmpty(env[ENV_SERVICE_NAME]) ?? defaultServiceName;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    endpoint,
    serviceName,
    async shutdown(timeoutMs = DEFAULT_TRACE_FLUSH_TIMEOUT_MS) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([provider.shutdown().catch(() => {}), late]);
      clearTimeout(timer);
      trace.disable();
      propagation.disable();
    },
  };
}
