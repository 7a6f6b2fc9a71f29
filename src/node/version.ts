/**
 * The package's version, read from its package.json at run time rather than written twice. This
 * file sits two folders below the package root both as source (src/node/) and as built code
 * (dist/node/, in the repository and in an installed package), so one relative path serves both.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createError } from '../core/errors/index.js';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
  if (pkg.name !== 'crossbus' || typeof pkg.version !== 'string')
    throw createError('CB_ERR_INTERNAL', 'the crossbus package.json is not two folders above src/node or dist/node');
  return pkg.version;
}

/** This package's version (`version` in package.json), e.g. for `crossbus --version` and start-up logs. */
export const VERSION: string = readVersion();

/** This package's root folder (where its package.json is), e.g. to give an app the crossbus its hub runs. */
export const PACKAGE_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));
