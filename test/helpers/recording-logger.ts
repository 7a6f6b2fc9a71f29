/** A Logger that keeps what it is given, in either of pino's call shapes: `(fields, message)` or `(message)`. */
import type { Logger, LogLevel } from '../../src/core/util/logger.js';

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown> | undefined;
}

export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogLevel) =>
    (a: string | Record<string, unknown>, b?: string): void =>
      void records.push(typeof a === 'string' ? { level, message: a, fields: undefined } : { level, message: b ?? '', fields: a });
  return { records, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
