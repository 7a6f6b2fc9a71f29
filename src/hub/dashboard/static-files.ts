/**
 * The built dashboard (`dist/dashboard`, made by `npm run build`), read into memory once at start:
 * a few small files, served with strict security headers. Vite names assets by their content
 * hash, so they are cached for good; index.html is never cached (it names the current assets).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../core/errors/index.js';

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly cache: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const IMMUTABLE = 'public, max-age=31536000, immutable';
const NO_STORE = 'no-store';

/**
 * Where the built dashboard is: next to the compiled hub (dist/hub/dashboard → dist/dashboard),
 * or the repository's dist/dashboard when the hub runs from source.
 */
export function defaultDashboardDir(): string {
  const candidates = [new URL('../../dashboard/', import.meta.url), new URL('../../../dist/dashboard/', import.meta.url)].map((u) =>
    fileURLToPath(u),
  );
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? (candidates[0] as string);
}

/** Every file under `dir` by its URL path (`/index.html`, `/assets/…`); CB_ERR_INVALID_OPTION when the dashboard is not built. */
export async function loadStaticFiles(dir: string): Promise<ReadonlyMap<string, StaticFile>> {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new ConfigError(
      'CB_ERR_INVALID_OPTION',
      `the dashboard is not built: ${join(dir, 'index.html')} is missing (run \`npm run build\`, or start the hub without --dashboard)`,
      { details: { option: 'dashboard.dir', dir } },
    );
  }
  const files = new Map<string, StaticFile>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const url = `/${relative(dir, path).split(sep).join('/')}`;
        const type = TYPES[extname(entry.name)] ?? 'application/octet-stream';
        files.set(url, { body: await readFile(path), type, cache: url.startsWith('/assets/') ? IMMUTABLE : NO_STORE });
      }
    }
  };
  await walk(dir);
  return files;
}
