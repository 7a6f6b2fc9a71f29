/**
 * Helpers for the browser tests: bundle the browser entry with esbuild, serve it from a plain
 * node:http server, and launch the system Chromium through playwright-core (never a downloaded
 * browser).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Frame, type Page, type Worker } from 'playwright-core';

export const BROWSER_ENTRY = fileURLToPath(new URL('../../src/browser/index.ts', import.meta.url));

export interface BrowserBundle {
  /** The ESM bundle's source. */
  code: string;
  /** Every source file esbuild pulled in (paths relative to the working directory). */
  inputs: string[];
  /** Imports left in the output (external ones); empty for a self-contained bundle. */
  externalImports: string[];
}

/**
 * Bundles `src/browser/index.ts` for the browser. esbuild fails outright when anything reachable
 * imports a Node built-in under platform 'browser', so a successful build is itself the check.
 */
export async function bundleBrowserEntry(entry = BROWSER_ENTRY): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output');
  const inputs = Object.keys(result.metafile.inputs);
  const externalImports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  return { code: out.text, inputs, externalImports };
}

export interface StaticFile {
  contentType: string;
  body: string | Uint8Array;
  /** Extra response headers (e.g. CORS for module scripts loaded by an opaque-origin frame). */
  headers?: Record<string, string>;
}

export interface StaticServer {
  /** http://127.0.0.1:port */
  readonly origin: string;
  readonly port: number;
  url(path: string): string;
  close(): Promise<void>;
}

/** Serves a fixed set of files on 127.0.0.1 (a port of its own, so an origin of its own). */
export async function startStaticServer(files: Record<string, StaticFile>): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const file = files[path];
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store', ...file.headers });
    res.end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    url: (path) => `${origin}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

/** The system Chromium: $CHROMIUM_PATH, else the Debian package's binary. */
export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const found = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(
      `no Chromium found (looked at ${CHROMIUM_CANDIDATES.join(', ')}); install it with 'apt-get install -y chromium' or set CHROMIUM_PATH`,
    );
  }
  return found;
}

/** `args`: extra command-line switches (e.g. `--host-resolver-rules=...`). */
export function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    timeout: 15_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...args,
    ],
  });
}

/**
 * tsx compiles test files with esbuild's keepNames, which wraps named functions declared inside
 * page.evaluate callbacks in `__name(fn, "name")`. The page has no such helper: give it one.
 */
export async function installPageShims(page: Page): Promise<void> {
  await page.addInitScript('globalThis.__name = (fn) => fn;');
}

/** A minimal page that imports the bundle (so a broken bundle shows up as a page error too). */
export function testPageHtml(bundlePath: string): string {
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><title>crossbus browser test</title></head>
<body>
<script type="module">
  import * as crossbus from ${JSON.stringify(bundlePath)};
  globalThis.crossbusLoaded = typeof crossbus.connect === 'function';
</script>
</body>
</html>
`;
}

/**
 * A test page that loads the bundle at `/cb.js` as `globalThis.cb`, with `globalThis.t` for a
 * test's state; `globalThis.ready` says the module ran. `body` goes before the script.
 */
export function cbPageHtml(body = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>${body}
<script type="module">import * as cb from '/cb.js'; globalThis.cb = cb; globalThis.t = {}; globalThis.ready = true;</script></body></html>`;
}

/** Runs `body` as an async function in the page or frame; resolves with its return value. */
export function runIn<T = unknown>(target: Frame | Page, body: string): Promise<T> {
  return target.evaluate(`(async () => { ${body} })()`) as Promise<T>;
}

/**
 * A Chromium profile with an unpacked MV3 extension loaded (the new headless mode runs
 * extensions). Resolves once the extension's service worker is up.
 */
export async function launchWithExtension(extensionDir: string, profileDir: string): Promise<{ context: BrowserContext; worker: Worker }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: findChromium(),
    headless: false,
    timeout: 20_000,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
    ],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
  return { context, worker };
}
