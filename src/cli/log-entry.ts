/**
 * The shape of every line the hub and the CLI log (seed 002 §6.4 LogEntry): `timestamp` (ms since
 * the epoch), `level` (debug, info, warn, error, critical), `component`, `correlationId` ('' when
 * the entry is about no message), `message`, `context` (every other field) and, for an error with
 * a stack, `stackTrace`. Values under keys that name secrets are redacted wherever they sit, so a
 * careless field never puts a secret in a log.
 */

/** The component an entry names when its logger named none. */
export const DEFAULT_COMPONENT = 'crossbus';
export const REDACTED = '[redacted]';
/** How deep `context` is copied; deeper values are summarized, so one entry stays bounded. */
export const MAX_CONTEXT_DEPTH = 6;

/** Keys whose values are never logged. */
const SECRET_KEY = /secret|password|passwd|token|api[-_]?key|authorization|cookie|credential|private[-_]?key|^key$/i;

export interface LogEntryFields {
  component: string;
  correlationId: string;
  context: Record<string, unknown>;
  stackTrace?: string;
}

/** Splits pino's merging object into the LogEntry's fields (pino adds timestamp, level and message). */
export function toLogEntry(fields: Record<string, unknown>): LogEntryFields {
  const { component, correlationId, error, err, ...rest } = fields;
  const failure = error ?? err;
  const context = redact(rest, 0) as Record<string, unknown>;
  if (failure !== undefined) context.error = failure instanceof Error ? failure.message : redact(failure, 1);
  const entry: LogEntryFields = {
    component: typeof component === 'string' && component !== '' ? component : DEFAULT_COMPONENT,
    correlationId: typeof correlationId === 'string' ? correlationId : '',
    context,
  };
  if (failure instanceof Error && failure.stack !== undefined) entry.stackTrace = failure.stack;
  return entry;
}

function redact(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return value.message;
  if (depth >= MAX_CONTEXT_DEPTH) return Array.isArray(value) ? `[array of ${value.length}]` : '[object]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== undefined ? REDACTED : redact(v, depth + 1);
  return out;
}
