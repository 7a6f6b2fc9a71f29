#!/usr/bin/env node
/**
 * Builds the demo extension: bundles the service worker (ESM), the content script (a classic
 * script, as Chrome requires) and the popup into <outDir>/dist, with the config compiled in, and
 * copies the manifest and the popup's page when building elsewhere. `crossbus demo` runs it with the demo hub's settings;
 * by hand: `node examples/extension/build.mjs [config.json]`.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXTENSION_DIR = dirname(fileURLToPath(import.meta.url));
/** The extension id Chrome derives from the manifest's `key`. */
export const EXTENSION_ID = 'gemalglccfifdabnmiddladfobhgmbde';

/**
 * @param {{ outDir?: string, config: { hubUrl: string, name: string, secret: string, pageOrigins: string[] }, minify?: boolean }} options
 * @returns {Promise<string>} the folder to load unpacked
 */
export async function buildExtension({ outDir = EXTENSION_DIR, config, minify = true }) {
  const { build } = await import('esbuild');
  const out = resolve(outDir);
  await mkdir(join(out, 'dist'), { recursive: true });
  if (out !== EXTENSION_DIR) {
    for (const file of ['manifest.json', 'popup.html']) await copyFile(join(EXTENSION_DIR, file), join(out, file));
  }
  const common = {
    bundle: true,
    platform: 'browser',
    target: 'chrome116',
    minify,
    logLevel: 'silent',
    define: { __CROSSBUS_EXTENSION_CONFIG__: JSON.stringify(config) },
  };
  await build({
    ...common,
    entryPoints: [join(EXTENSION_DIR, 'src', 'background.ts')],
    format: 'esm',
    outfile: join(out, 'dist', 'background.js'),
  });
  await build({
    ...common,
    entryPoints: [join(EXTENSION_DIR, 'src', 'content.ts')],
    format: 'iife',
    outfile: join(out, 'dist', 'content.js'),
  });
  await build({
    ...common,
    entryPoints: [join(EXTENSION_DIR, 'src', 'popup.ts')],
    format: 'iife',
    outfile: join(out, 'dist', 'popup.js'),
  });
  return out;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? join(EXTENSION_DIR, 'config.json');
  let config = { hubUrl: '', name: '', secret: '', pageOrigins: [] };
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    process.stderr.write(`no ${file}: building a stand-alone extension hub (run \`npm start\` to build it for the demo)\n`);
  }
  process.stdout.write(`built ${await buildExtension({ config })}\n`);
}
