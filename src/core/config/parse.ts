/**
 * `parseHubConfig`: the hub config schema applied to a parsed file, every problem turned into one
 * line of a ConfigError that names the file and each problem's JSON path.
 */
import * as v from 'valibot';
import { ConfigError } from '../errors/index.js';
import { HubConfigSchema, type HubConfig } from './document-schema.js';

// Every problem in one run: a user fixing a file should not learn of them one start at a time.
// Every rule has its own message; the fallback keeps valibot's default, which quotes the value
// (maybe a secret), out of logs.
const PARSE_CONFIG = { abortEarly: false, message: () => 'is invalid' } as const;

/** `apps.billing.secrets[1].id`; '' for the document itself. */
function jsonPath(path: readonly v.IssuePathItem[] | undefined): string {
  let out = '';
  for (const { key } of path ?? []) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

/** One problem of a config document: where (`apps.billing.secrets[1].id`) and what. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/**
 * Validates and normalizes a parsed config file (JSON or YAML). Never mutates `raw`. Throws
 * ConfigError CB_ERR_CONFIG_INVALID naming `source` (the file) and every problem with its JSON
 * path: `file: path: message` for one, a line per problem for several; `details.problems` lists
 * them and `details.path` is the first one's.
 */
export function parseHubConfig(raw: unknown, source?: string): HubConfig {
  return parseConfigPart(HubConfigSchema, raw, source);
}

/**
 * A part of the config given on its own (`startHub({ alerts })`), checked as the file's would be:
 * ConfigError CB_ERR_CONFIG_INVALID naming `source` and each problem's path.
 */
export function parseConfigPart<S extends v.GenericSchema>(schema: S, raw: unknown, source?: string): v.InferOutput<S> {
  const result = v.safeParse(schema, raw, PARSE_CONFIG);
  if (result.success) return result.output;
  const problems: ConfigProblem[] = [];
  for (const issue of result.issues) {
    const p = { path: jsonPath(issue.path) || '(config)', message: issue.message };
    if (!problems.some((q) => q.path === p.path && q.message === p.message)) problems.push(p);
  }
  const where = source === undefined ? '' : `${source}: `;
  const first = problems[0] as ConfigProblem;
  const message =
    problems.length === 1
      ? `${where}${first.path}: ${first.message}`
      : `${where}${problems.length} problems:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`;
  const details = { path: first.path, problems, ...(source === undefined ? {} : { source }) };
  throw new ConfigError('CB_ERR_CONFIG_INVALID', message, { details });
}
