/** Loggers for the parts of the hub (LogEntry.component), and the critical level on any Logger. */
import { silentLogger, type LogFn, type Logger } from './logger.js';

/** Logs at `critical`, or at `error` on a logger without that level. */
export function logCritical(logger: Logger, fields: Record<string, unknown>, message: string): void {
  (logger.critical ?? logger.error)(fields, message);
}

/**
 * A logger whose every entry names `component` (a field, so it works on any Logger and a pino
 * child's bindings never repeat the key). The silent logger stays itself.
 */
export function componentLogger(logger: Logger, component: string): Logger {
  if (logger === silentLogger) return logger;
  const level =
    (fn: LogFn): LogFn =>
    (a: Record<string, unknown> | string, message?: string): void => {
      if (typeof a === 'string') fn({ component }, a);
      else fn({ component, ...a }, message as string);
    };
  const critical = logger.critical;
  return {
    debug: level(logger.debug.bind(logger)),
    info: level(logger.info.bind(logger)),
    warn: level(logger.warn.bind(logger)),
    error: level(logger.error.bind(logger)),
    critical: level((critical ?? logger.error).bind(logger)),
  };
}
