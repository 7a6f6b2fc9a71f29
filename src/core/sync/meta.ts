/**
 * A document's meta, checked and compiled: its kind, its per-path strategies (globs over
 * `/`-separated paths, first match wins) and its limits with their defaults filled in.
 */
import { ConfigError } from '../errors/index.js';
import {
  DEFAULT_SYNC_HISTORY_LIMIT,
  DEFAULT_SYNC_MAX_CHANGE_BYTES,
  DEFAULT_SYNC_MAX_CLOCK_SKEW_MS,
  DEFAULT_SYNC_MAX_REPLICAS,
  DEFAULT_SYNC_MAX_CONFLICTS,
  DEFAULT_SYNC_MAX_FILE_BYTES,
  DEFAULT_SYNC_MAX_RESOLVED_CONFLICTS,
} from './defaults.js';
import type { DocumentLimits, DocumentMeta, SyncStrategy } from './types.js';

export interface ResolvedMeta {
  readonly kind: 'json' | 'files';
  readonly changeDetection: 'sequence' | 'timestamp' | 'hash';
  readonly limits: Readonly<Required<DocumentLimits>>;
  /** The strategy of a path (a JSON pointer as written). */
  strategyFor(path: string): SyncStrategy;
}

const STRATEGY_RE = /^(lww|merge|manual|custom:[\w-]{1,64})$/;

function fail(option: string, rule: string, value: unknown): never {
  throw new ConfigError('CB_ERR_INVALID_OPTION', `sync document option ${option} must be ${rule}, got ${String(value).slice(0, 100)}`, {
    details: { option },
  });
}

/**
 * A glob over `/`-separated paths as a regular expression: `**` is any number of segments
 * (none included), `*` any run of characters within one segment, `?` one character.
 * `/notes/**` matches `/notes` and everything below it; `**` alone matches every path.
 */
export function globToRegExp(glob: string): RegExp {
  if (glob === '**') return /^/;
  let re = '^';
  const parts = glob.split('/').slice(1);
  for (const part of parts) {
    if (part === '**') {
      re += '(?:/.*)?';
      continue;
    }
    re += `/${part
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}`;
  }
  return new RegExp(`${re}$`);
}

function limit(name: keyof DocumentLimits, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min) fail(`limits.${name}`, `an integer >= ${min}`, value);
  return value as number;
}

/** The meta with defaults filled in; throws CB_ERR_INVALID_OPTION or CB_ERR_CONFLICTING_OPTIONS. */
export function resolveMeta(meta: DocumentMeta = {}): ResolvedMeta {
  if (typeof meta !== 'object' || meta === null) fail('meta', 'an object', meta);
  const kind = meta.kind ?? 'json';
  if (kind !== 'json' && kind !== 'files') fail('kind', '"json" or "files"', kind);
  const changeDetection = meta.changeDetection ?? 'sequence';
  if (changeDetection !== 'sequence' && changeDetection !== 'timestamp' && changeDetection !== 'hash') {
    fail('changeDetection', '"sequence", "timestamp" or "hash"', changeDetection);
  }
  const l: DocumentLimits = meta.limits ?? {};
  if (typeof l !== 'object' || l === null) fail('limits', 'an object', l);
  const limits = Object.freeze({
    historyLimit: limit('historyLimit', l.historyLimit, DEFAULT_SYNC_HISTORY_LIMIT, 1),
    maxConflicts: limit('maxConflicts', l.maxConflicts, DEFAULT_SYNC_MAX_CONFLICTS, 0),
    maxResolvedConflicts: limit('maxResolvedConflicts', l.maxResolvedConflicts, DEFAULT_SYNC_MAX_RESOLVED_CONFLICTS, 0),
    maxFileBytes: limit('maxFileBytes', l.maxFileBytes, DEFAULT_SYNC_MAX_FILE_BYTES, 1),
    maxChangeBytes: limit('maxChangeBytes', l.maxChangeBytes, DEFAULT_SYNC_MAX_CHANGE_BYTES, 256),
    maxReplicas: limit('maxReplicas', l.maxReplicas, DEFAULT_SYNC_MAX_REPLICAS, 1),
    maxClockSkewMs: limit('maxClockSkewMs', l.maxClockSkewMs, DEFAULT_SYNC_MAX_CLOCK_SKEW_MS, 0),
  });
  const rules = meta.strategies ?? [];
  if (!Array.isArray(rules)) fail('strategies', 'an array of { path, strategy }', rules);
  const compiled: Array<{ re: RegExp; strategy: SyncStrategy }> = [];
  const seen = new Set<string>();
  for (const rule of rules as unknown[]) {
    const r = rule as { path?: unknown; strategy?: unknown };
    if (typeof rule !== 'object' || rule === null || typeof r.path !== 'string') fail('strategies', 'an array of { path, strategy }', rule);
    const path = r.path as string;
    if (path !== '**' && (path.length === 0 || path[0] !== '/' || path.length > 1024)) {
      fail('strategies[].path', 'a glob starting with "/" (or "**")', path);
    }
    if (typeof r.strategy !== 'string' || !STRATEGY_RE.test(r.strategy)) {
      fail('strategies[].strategy', 'lww, merge, manual or custom:<name>', r.strategy);
    }
    if (seen.has(path)) {
      throw new ConfigError(
        'CB_ERR_CONFLICTING_OPTIONS',
        `sync document strategies name the path ${path} twice: only the first would apply`,
        {
          details: { path },
        },
      );
    }
    seen.add(path);
    compiled.push({ re: globToRegExp(path), strategy: r.strategy as SyncStrategy });
  }
  return {
    kind,
    changeDetection,
    limits,
    strategyFor(path: string): SyncStrategy {
      for (const c of compiled) if (c.re.test(path)) return c.strategy;
      return 'merge';
    },
  };
}
