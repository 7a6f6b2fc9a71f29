#!/usr/bin/env node
/**
 * Measures what a browser page downloads: each browser entry bundled by esbuild (ESM, minified,
 * tree-shaken), raw and gzipped (level 9). `--json` prints one JSON object; `--budget <KB>`
 * exits 1 when the page client (crossbus/page) is larger, gzipped. KB here are 1024 bytes.
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
export const ENTRIES = {
  'crossbus/page (page client: bus + window, port, worker, extension transports)': 'src/browser/page.ts',
  'crossbus/page + crossbus/streams (the page client with durable streams)': ['src/browser/page.ts', 'src/browser/streams.ts'],
  'crossbus/page + crossbus/streams + crossbus/sync (the page client with replicated documents)': [
    'src/browser/page.ts',
    'src/browser/streams.ts',
    'src/browser/sync.ts',
  ],
  'crossbus (browser build: + secret auth, WebSocket, bridge, in-memory, streams)': 'src/browser/index.ts',
  'crossbus/hub (browser build: a hub in a page, worker or service worker)': 'src/browser/hub.ts',
};

/** `entry`: one file, or several bundled together (as a page importing each of them). */
export async function measure(entry) {
  const input = Array.isArray(entry)
    ? { stdin: { contents: entry.map((e) => `export * from ${JSON.stringify(root + e)};`).join('\n'), resolveDir: root, loader: 'ts' } }
    : { entryPoints: [root + entry] };
  const r = await build({
    ...input,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const code = r.outputFiles[0].contents;
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const rows = [];
  for (const [name, entry] of Object.entries(ENTRIES)) rows.push({ name, entry, ...(await measure(entry)) });
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } else {
    for (const r of rows)
      process.stdout.write(
        `${r.name}\n  ${(r.minified / 1024).toFixed(1)} KB minified, ${(r.gzipped / 1024).toFixed(2)} KB gzipped (${r.gzipped} bytes)\n`,
      );
  }
  const i = args.indexOf('--budget');
  if (i >= 0) {
    const budget = Number(args[i + 1]) * 1024;
    const page = rows[0];
    if (page.gzipped > budget) {
      process.stderr.write(`the page client is ${(page.gzipped / 1024).toFixed(1)} KB gzipped, over the ${args[i + 1]} KB budget\n`);
      process.exit(1);
    }
  }
}
