/**
 * `parseHubConfig`: the hub config schema applied to a parsed file, its first problem turned into
 * a ConfigError whose message starts with the file and the JSON path.
 */
import * as v from 'valibot';
import { ConfigError } from '../errors/index.js';
import { HubConfigSchema, type HubConfig } from './document-schema.js';

// The first problem only: the next may be a consequence of it. Every rule has its own message;
// the fallback keeps valibot's default, which quotes the value (maybe a secret), out of logs.
const PARSE_CONFIG = { abortEarly: true, message: () => 'is invalid' } as const;

/** `apps.billing.secrets[1].id`; '' for the document itself. */
function jsonPath(path: readonly v.IssuePathItem[] | undefined): string {
  let out = '';
  for (const { key } of path ?? []) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

/**
 * Validates and normalizes a parsed config file (JSON or YAML). Never mutates `raw`. Throws
 * ConfigError CB_ERR_CONFIG_INVALID whose message starts with `source` (the file) and the JSON path.
 */
export function parseHubConfig(raw: unknown, source?: string): HubConfig {
  const result = v.safeParse(HubConfigSchema, raw, PARSE_CONFIG);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = jsonPath(issue.path) || '(config)';
  const where = source === undefined ? '' : `${source}: `;
  throw new ConfigError('CB_ERR_CONFIG_INVALID', `${where}${path}: ${issue.message}`, {
    details: source === undefined ? { path } : { path, source },
  });
}
