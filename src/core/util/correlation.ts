/**
 * The correlation id of a message, for logs: the `correlation-id` header when the sender set one,
 * else the trace id of a well-formed W3C `traceparent`, else ''. A malformed header is ignored,
 * never an error: the value came from another app.
 */
import { HEADER_CORRELATION_ID, HEADER_TRACEPARENT, type Headers } from '../protocol/envelope.js';

/** Longest correlation id taken from a header; a longer one is cut, so a log line stays bounded. */
export const MAX_CORRELATION_ID_LENGTH = 128;

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}(?:-|$)/;
const ZERO_TRACE_ID = '0'.repeat(32);

/** The trace id of a W3C traceparent, or '' when it is absent, malformed or all zeros. */
export function traceIdOf(traceparent: string | undefined): string {
  if (traceparent === undefined || traceparent.startsWith('ff')) return '';
  const m = TRACEPARENT.exec(traceparent);
  return m === null || m[1] === ZERO_TRACE_ID ? '' : (m[1] as string);
}

/** The `correlation-id` header the sender set (cut to MAX_CORRELATION_ID_LENGTH), or ''. */
export function headerCorrelationId(headers: Readonly<Headers> | undefined): string {
  const explicit = headers?.[HEADER_CORRELATION_ID];
  return explicit === undefined ? '' : explicit.slice(0, MAX_CORRELATION_ID_LENGTH);
}

export function correlationIdOf(headers: Readonly<Headers> | undefined): string {
  if (headers === undefined) return '';
  return headerCorrelationId(headers) || traceIdOf(headers[HEADER_TRACEPARENT]);
}
