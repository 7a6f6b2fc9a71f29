/**
 * The DeploymentConfig `crossbus deploy start` sends: the `--config` file (JSON or YAML, read as
 * the hub's config is) with `--strategy` and `--env` over it. A flag may repeat what the file
 * says but not contradict it: which of two differing values was meant is not for the CLI to
 * guess. The result is validated with the core's schema before anything is sent, so a mistake
 * is reported with its file and path before the upload; what is sent is the merged document as
 * written (the hub applies the defaults of its own version).
 */
import { parseDeploymentConfig, type DeploymentConfig, type DeployEnvironment, type DeployStrategy } from '../core/apps/deploy-config.js';
import { createError } from '../core/errors/index.js';
import { readConfigDocument } from '../node/config/config-file.js';
import { UsageError } from './options.js';

export const DEPLOY_STRATEGIES: readonly DeployStrategy[] = ['blue-green', 'rolling', 'canary'];
export const DEPLOY_ENVIRONMENTS: readonly DeployEnvironment[] = ['development', 'staging', 'testing', 'production'];

/** What the flags say about the config; undefined: not given. */
export interface DeployConfigFlags {
  readonly strategy?: string | undefined;
  readonly env?: string | undefined;
}

/** The config to send, and what it means once validated (the hub's defaults filled in). */
export interface MergedDeployConfig {
  /** The file's document with the flags' values in it: what DEPLOY_START carries. */
  readonly input: Readonly<Record<string, unknown>>;
  readonly config: DeploymentConfig;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} must be ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

/**
 * Merges the flags into `raw` (a parsed config document, or undefined without `--config`) and
 * validates the result. Never mutates `raw`. Throws UsageError for a flag value that is none of
 * its choices, CB_ERR_CONFLICTING_OPTIONS for a flag that contradicts the file, and the schema's
 * CB_ERR_CONFIG_INVALID (naming `source` and the path) for a config that does not validate.
 */
export function mergeDeployConfig(raw: unknown, flags: DeployConfigFlags, source?: string): MergedDeployConfig {
  const strategy = oneOf('strategy', flags.strategy, DEPLOY_STRATEGIES);
  const environment = oneOf('env', flags.env, DEPLOY_ENVIRONMENTS);
  // Anything but an object is the schema's to refuse, in its words.
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) parseDeploymentConfig(raw, source);
  const file = (raw ?? {}) as Readonly<Record<string, unknown>>;
  const input: Record<string, unknown> = { ...file };
  for (const [key, flag, value] of [
    ['strategy', 'strategy', strategy],
    ['targetEnvironment', 'env', environment],
  ] as const) {
    if (value === undefined) continue;
    const said = file[key];
    if (said !== undefined && said !== value)
      throw createError(
        'CB_ERR_CONFLICTING_OPTIONS',
        `--${flag} ${value} contradicts ${key}: ${JSON.stringify(said)} in ${source ?? 'the config file'}: give one or make them agree`,
        { details: { option: flag, flag: value, file: said, ...(source === undefined ? {} : { source }) } },
      );
    input[key] = value;
  }
  return { input, config: parseDeploymentConfig(input, source) };
}

/** Reads the `--config` file (JSON, or YAML by its extension), then merges as mergeDeployConfig. */
export async function loadDeployConfig(path: string | undefined, flags: DeployConfigFlags): Promise<MergedDeployConfig> {
  return mergeDeployConfig(path === undefined ? undefined : await readConfigDocument(path), flags, path);
}
