import type { Logger, LogLevel } from '../core/util/logger.js';
import { DEFAULT_LOG_LEVEL } from './defaults.js';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The CLI's logger: one line per event on stderr, `time level message {fields}`. */
export function consoleLogger(level: LogLevel = DEFAULT_LOG_LEVEL): Logger {
  const min = ORDER[level];
  const log =
    (l: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (ORDER[l] < min) return;
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`${new Date().toISOString()} ${l.toUpperCase()} ${message}${extra}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
