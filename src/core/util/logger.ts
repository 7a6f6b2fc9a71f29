/**
 * Library code never writes to the console: it logs through an injected Logger. The default is
 * silent; the CLI injects a pino logger that writes the spec's LogEntry (src/cli/log-entry.ts).
 *
 * The call shape is pino's (and bunyan's): fields first, then the message, or the message alone.
 * So a pino logger (or a `logger.child({...})` of one) can be passed as it is and keeps every field.
 * Fields with a meaning of their own: `component` (the part of the hub that speaks, see
 * componentLogger), `correlationId` (the message's, see correlationIdOf) and `error` (an Error
 * keeps its stack as the entry's stackTrace).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical';

/** One level's function: `log({ stream: 'ORDERS' }, 'stream opened')` or `log('stream opened')`. */
export interface LogFn {
  (fields: Record<string, unknown>, message: string): void;
  (message: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** The hub cannot keep a promise it made (its audit log cannot be written). @default error */
  critical?: LogFn;
}

const noop = (): void => {};
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
