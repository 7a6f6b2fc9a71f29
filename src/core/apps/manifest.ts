/**
 * `parseAppManifest`: the manifest schema applied to a parsed file, every problem reported with
 * its JSON path as the hub config's are (ConfigError CB_ERR_CONFIG_INVALID, `details.path`).
 */
import { parseConfigPart } from '../config/parse.js';
import { AppManifestSchema, type AppManifest } from './manifest-schema.js';

export { AppManifestSchema, entryProblem, envKeyProblem } from './manifest-schema.js';
export type { AppHealthCheck, AppManifest, AppManifestInput, AppResources } from './manifest-schema.js';

/** The default file names of a manifest, in the order they are looked for in a folder. */
export const APP_MANIFEST_NAMES = ['crossbus.app.json', 'crossbus.app.yaml', 'crossbus.app.yml'] as const;

/** Validates and normalizes a parsed manifest; never mutates `raw`. Throws ConfigError CB_ERR_CONFIG_INVALID naming `source` and each problem's path. */
export function parseAppManifest(raw: unknown, source?: string): AppManifest {
  return parseConfigPart(AppManifestSchema, raw, source);
}
