/**
 * The tracing the `crossbus-traced` rows pay for (issue 20): an SDK tracer provider sampling every
 * span (the default sampler) through the batch processor users run in production, its export
 * dropped by a no-op exporter, so the cost measured is the spans and their headers, not a collector.
 */
import type { TracingOptions } from '../../src/node/index.js';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportResultCode } from '@opentelemetry/core';

const dropAll: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: () => Promise.resolve(),
};

/** One provider per run, shut down by the caller. */
export function benchTracing(): { tracing: TracingOptions; shutdown(): Promise<void> } {
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropAll)] });
  return { tracing: { tracerProvider: provider }, shutdown: () => provider.shutdown() };
}
