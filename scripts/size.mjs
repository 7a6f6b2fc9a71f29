#!/usr/bin/env node
/**
 * Measures what a browser page downloads: each browser entry bundled by esbuild (ESM, minified,
 * tree-shaken), raw and gzipped (level 9). `--json` prints one JSON object; `--budget <KB>`
 * exits 1 when the page client (crossbus/page) is larger, gzipped. KB here are 1024 bytes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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

/**
 * `entry`: one file, or several bundled together (as a page importing each of them). Code
 * splitting is on, as in an app's bundler: what loads only on demand (`import()`, such as the
 * sync engine on the first `bus.sync.open`) is counted apart, in `lazyGzipped`; the sizes are
 * what a page downloads up front (the entry and the chunks it imports statically).
 */
export async function measure(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-size-'));
  try {
    const file = join(dir, 'entry.js');
    const files = Array.isArray(entry) ? entry : [entry];
    writeFileSync(file, files.map((e) => `export * from ${JSON.stringify(root + e)};`).join('\n'));
    const r = await build({
      entryPoints: [file],
      bundle: true,
      splitting: true,
      outdir: join(dir, 'out'),
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const byPath = new Map(r.outputFiles.map((f) => [relative(root, f.path), f.contents]));
    const outputs = r.metafile.outputs;
    const main = Object.keys(outputs).find((k) => outputs[k].entryPoint !== undefined);
    const upFront = new Set([main]);
    for (const k of upFront) for (const i of outputs[k].imports) if (i.kind === 'import-statement') upFront.add(i.path);
    const sizes = (keys) => {
      let minified = 0;
      let gzipped = 0;
      for (const k of keys) {
        const code = byPath.get(relative(root, join(process.cwd(), k))) ?? byPath.get(k);
        minified += code.length;
        gzipped += gzipSync(code, { level: 9 }).length;
      }
      return { minified, gzipped };
    };
    const lazy = Object.keys(outputs).filter((k) => !upFront.has(k) && k.endsWith('.js'));
    return { ...sizes(upFront), lazyGzipped: sizes(lazy).gzipped };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
        `${r.name}\n  ${(r.minified / 1024).toFixed(1)} KB minified, ${(r.gzipped / 1024).toFixed(2)} KB gzipped (${r.gzipped} bytes)${r.lazyGzipped > 0 ? `; ${(r.lazyGzipped / 1024).toFixed(2)} KB gzipped more on demand` : ''}\n`,
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
