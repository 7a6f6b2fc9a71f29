/**
 * The CLI's logger: pino, to stderr (stdout carries the commands' output). JSON lines by default
 * when stderr is not a terminal, so a supervisor or log shipper gets fields it can parse; pino-pretty
 * on a terminal. Writes are synchronous: a hub that exits right after logging loses no line.
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger, LogLevel } from '../core/util/logger.js';
import { toLogEntry } from './log-entry.js';
import { UsageError, defineOptions } from './options.js';
import { DEFAULT_LOG_LEVEL } from './defaults.js';

export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'critical'];
/** The levels by pino's numbers (pino's own, with critical where it has fatal). */
const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = { debug: 20, info: 30, warn: 40, error: 50, critical: 60 };
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export interface CliLoggerOptions {
  /** @default DEFAULT_LOG_LEVEL */
  level?: LogLevel;
  /** @default 'pretty' when stderr is a terminal, else 'json' */
  format?: LogFormat;
}

/** The format a user gets without --log-format. */
export function defaultLogFormat(): LogFormat {
  return process.stderr.isTTY ? 'pretty' : 'json';
}

export function cliLogger(options: CliLoggerOptions = {}): Logger {
  const { level = DEFAULT_LOG_LEVEL, format = defaultLogFormat() } = options;
  const stream =
    format === 'pretty'
      ? pretty({
          destination: 2,
          sync: true,
          colorize: process.stderr.isTTY === true,
          translateTime: 'SYS:standard',
          messageKey: 'message',
          timestampKey: 'timestamp',
          customLevels: LEVEL_VALUES,
          useOnlyCustomProps: true,
          // The component leads the line; a correlation id follows the message when there is one.
          messageFormat: '{component}: {message}{if correlationId} (correlation {correlationId}){end}',
          ignore: 'hostname,pid,component,correlationId',
        })
      : pino.destination({ fd: 2, sync: true });
  return pino<keyof typeof LEVEL_VALUES, true>(
    {
      level,
      customLevels: LEVEL_VALUES,
      useOnlyCustomLevels: true,
      messageKey: 'message',
      // The LogEntry's timestamp: a number, ms since the epoch.
      timestamp: () => `,"timestamp":${Date.now()}`,
      base: { pid: process.pid },
      formatters: {
        // Level names, not numbers: what people grep for and what most log shippers map.
        level: (label) => ({ level: label }),
        log: (fields) => ({ ...toLogEntry(fields) }),
      },
    },
    stream,
  );
}

/** The flags of every command that logs (hub, demo). */
export const LOG_OPTIONS = defineOptions({
  'log-level': { type: 'string', placeholder: '<level>', description: LOG_LEVELS.join(' | '), default: DEFAULT_LOG_LEVEL },
  'log-format': {
    type: 'string',
    placeholder: '<format>',
    description: 'json (one object per line) | pretty',
    default: 'json, or pretty on a terminal',
  },
});

/** `--log-level` and `--log-format` checked, in the CLI's words. */
export function logOptions(level: string | undefined, format: string | undefined): CliLoggerOptions {
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(level)}`);
  }
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--log-format must be json or pretty; got ${JSON.stringify(format)}`);
  }
  return { ...(level !== undefined ? { level: level as LogLevel } : {}), ...(format !== undefined ? { format: format as LogFormat } : {}) };
}
