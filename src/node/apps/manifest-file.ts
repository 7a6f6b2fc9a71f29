/**
 * An app manifest on disk: `crossbus.app.json`, `.yaml` or `.yml` (a path to the file, or to a
 * folder holding one), validated by the core's schema, with `entry` resolved against the
 * manifest's folder and checked: a file for a node app, a folder for a static one.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { APP_MANIFEST_NAMES, parseAppManifest, type AppManifest } from '../../core/apps/manifest.js';
import { ConfigError } from '../../core/errors/index.js';
import { readConfigDocument } from '../config/config-file.js';

/** A manifest as loaded: the validated document, the file it came from, its entry as an absolute path. */
export interface LoadedAppManifest {
  readonly manifest: AppManifest;
  /** The manifest file, absolute. */
  readonly file: string;
  /** The manifest's folder, absolute: where the instances run. */
  readonly dir: string;
  /** `entry` resolved against `dir`. */
  readonly entryPath: string;
}

function invalid(file: string, path: string, message: string): ConfigError {
  return new ConfigError('CB_ERR_CONFIG_INVALID', `${file}: ${path}: ${message}`, {
    details: { source: file, path, problems: [{ path, message }] },
  });
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/** The manifest file `path` names: itself, or the first of APP_MANIFEST_NAMES in it when it is a folder. */
async function manifestFile(path: string): Promise<string> {
  const full = resolve(path);
  const info = await statOrUndefined(full);
  if (info === undefined)
    throw new ConfigError('CB_ERR_CONFIG_INVALID', `${full}: no such manifest file`, { details: { source: full, path: '' } });
  if (!info.isDirectory()) return full;
  for (const name of APP_MANIFEST_NAMES) {
    const candidate = join(full, name);
    if ((await statOrUndefined(candidate))?.isFile()) return candidate;
  }
  throw new ConfigError('CB_ERR_CONFIG_INVALID', `${full}: holds no ${APP_MANIFEST_NAMES.join(', ')}`, {
    details: { source: full, path: '' },
  });
}

/**
 * Reads, validates and resolves a manifest. Throws ConfigError CB_ERR_CONFIG_INVALID naming the
 * file and the problem's JSON path; an entry that does not exist (or is a folder where a file is
 * needed, or the reverse) is one, at path `entry`, naming the absolute path looked for.
 */
export async function loadAppManifest(path: string): Promise<LoadedAppManifest> {
  const file = await manifestFile(path);
  const manifest = parseAppManifest(await readConfigDocument(file), file);
  const dir = dirname(file);
  const entryPath = resolve(dir, manifest.entry);
  const info = await statOrUndefined(entryPath);
  if (info === undefined) throw invalid(file, 'entry', `${entryPath} does not exist`);
  if (manifest.kind === 'node' && !info.isFile())
    throw invalid(file, 'entry', `${entryPath} is not a file (a node app's entry is its main module)`);
  if (manifest.kind === 'static' && !info.isDirectory())
    throw invalid(file, 'entry', `${entryPath} is not a folder (a static app's entry is the folder served)`);
  return { manifest, file, dir, entryPath };
}
