/**
 * `crossbus demo` (what `npm start` runs): a hub on its defaults plus the demo a newcomer can
 * open — a project editor on http://localhost:7071 that hosts a page hub, a live preview iframe
 * on http://127.0.0.1:7072 (another site) joined through postMessage, a Node service answering
 * requests, and the unpacked extension in examples/extension. Demo only: the editor page gets
 * its bridge credentials from the demo server, which listens on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startHub, type Hub } from '../../hub/hub.js';
import { connect, type Bus } from '../../node/index.js';
import { CONFIG_FILE_NAME, createDefaultConfig } from '../../node/config/config-file.js';
import { replaceFileAtomically } from '../../node/atomic-file.js';
import type { Logger } from '../../core/util/logger.js';
import { HELP_OPTION, defineOptions, optionsHelp, parseOptions } from '../options.js';
import { DEFAULT_PORT } from '../../hub/defaults.js';
import { DEFAULT_DEMO_DATA_DIR, DEFAULT_EDITOR_PORT, DEFAULT_PREVIEW_PORT } from '../defaults.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEMO_DIR = join(ROOT, 'examples', 'demo');
const EXTENSION_DIR = join(ROOT, 'examples', 'extension');

/** examples/extension/build.mjs: its builder, and the id fixed by the manifest's `key`. */
interface ExtensionBuilder {
  EXTENSION_ID: string;
  buildExtension(o: { outDir: string; config: ExtensionConfig }): Promise<string>;
}
interface ExtensionConfig {
  hubUrl: string;
  name: string;
  secret: string;
  pageOrigins: string[];
}

const DEMO_OPTIONS = defineOptions({
  port: { type: 'string', placeholder: '<n>', description: "the hub's port", default: DEFAULT_PORT },
  'editor-port': { type: 'string', placeholder: '<n>', description: 'the editor page (http://localhost)', default: DEFAULT_EDITOR_PORT },
  'preview-port': {
    type: 'string',
    placeholder: '<n>',
    description: 'the preview iframe (http://127.0.0.1, another site)',
    default: DEFAULT_PREVIEW_PORT,
  },
  data: {
    type: 'string',
    placeholder: '<dir>',
    description: "the demo's state directory (never your real hub's)",
    default: DEFAULT_DEMO_DATA_DIR,
  },
  'extension-dir': {
    type: 'string',
    placeholder: '<dir>',
    description: 'where the extension is built for this hub',
    default: relative(ROOT, EXTENSION_DIR),
  },
  ...HELP_OPTION,
});

export const DEMO_HELP = `Usage: crossbus demo [--port ${DEFAULT_PORT}] [--editor-port ${DEFAULT_EDITOR_PORT}] [--preview-port ${DEFAULT_PREVIEW_PORT}] [--data ${DEFAULT_DEMO_DATA_DIR}] [--extension-dir ${relative(ROOT, EXTENSION_DIR)}]

Starts a hub and the demo: open the editor at http://localhost:${DEFAULT_EDITOR_PORT}. It hosts a crossbus hub in
the page; the preview iframe (http://127.0.0.1:${DEFAULT_PREVIEW_PORT}, another site) joins it through postMessage;
a bridge joins the page hub to this hub, where a Node service formats documents; the extension in
examples/extension joins the same bus (load it unpacked: see the README); the demo builds it for
this hub (into --extension-dir). Ports 0 pick free ones.

${optionsHelp([{ title: 'Options:', options: DEMO_OPTIONS }])}`;

interface DemoApps {
  editor: string;
  service: string;
  extension: string;
}

/** The demo config: the usual apps plus one per demo part, and the editor's origin on the allow-list. */
async function ensureDemoConfig(dataDir: string, editorOrigin: string, extensionId: string): Promise<DemoApps> {
  const path = join(dataDir, CONFIG_FILE_NAME);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const text = existsSync(path) ? await readFile(path, 'utf8') : undefined;
  const doc = (text === undefined ? createDefaultConfig() : JSON.parse(text)) as ReturnType<typeof createDefaultConfig>;
  const secret = (): string => randomBytes(32).toString('base64');
  const apps = doc.apps as Record<string, { secret?: string; roles: string[] }>;
  apps['demo-editor'] ??= { secret: secret(), roles: ['demo-bridge'] };
  apps['demo-service'] ??= { secret: secret(), roles: ['demo-service'] };
  apps['demo-extension'] ??= { secret: secret(), roles: ['demo-bridge'] };
  const roles = doc.roles as Record<string, unknown>;
  roles['demo-bridge'] = { publish: ['edits.>', 'ext.>'], subscribe: ['build.>', 'ext.>', 'edits.>', 'format.>'], request: ['format.>'] };
  roles['demo-service'] = { publish: ['build.>'], subscribe: ['format.>', 'edits.>'], request: [] };
  // The extension's service worker connects over WebSocket with Origin chrome-extension://<id>.
  for (const origin of [editorOrigin, `chrome-extension://${extensionId}`]) if (!doc.origins.includes(origin)) doc.origins.push(origin);
  await replaceFileAtomically(path, `${JSON.stringify(doc, null, 2)}\n`);
  return {
    editor: apps['demo-editor'].secret as string,
    service: apps['demo-service'].secret as string,
    extension: apps['demo-extension'].secret as string,
  };
}

async function bundle(entry: string): Promise<string> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('the demo bundles its pages with esbuild, a dev dependency: run `npm install` in the crossbus folder');
  }
  const r = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return r.outputFiles[0]?.text ?? '';
}

interface Served {
  server: Server;
  port: number;
}

function serve(host: string, port: number, files: Record<string, { type: string; body: string }>): Promise<Served> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const f = files[path === '/' ? '/index.html' : path];
    if (f === undefined) {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' }).end(f.body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

/** Answers `format.markdown` and reports a build status now and then: the Node side of the demo. */
async function startService(url: string, secret: string): Promise<{ bus: Bus; stop(): void }> {
  const bus = await connect(url, { name: 'demo-service', secret });
  bus.serve('format.markdown', (m) => {
    const text = String((m.data as { text?: unknown })?.text ?? '');
    const formatted = text
      .split('\n')
      .map((l) => l.replace(/\s+$/, ''))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/^#(?=\S)/gm, '# ');
    return { text: formatted };
  });
  let n = 0;
  const timer = setInterval(
    () => void bus.publish('build.status', { build: ++n, ok: true, at: new Date().toISOString() }).catch(() => {}),
    5_000,
  );
  return { bus, stop: () => clearInterval(timer) };
}

export interface DemoHandle {
  hub: Hub;
  /** The folder to load unpacked in Chrome. */
  extensionDir: string;
  editorUrl: string;
  previewOrigin: string;
  close(): Promise<void>;
}

/** Builds examples/extension for this hub (into `outDir`); the config is kept next to it for rebuilds by hand. */
async function buildDemoExtension(builder: ExtensionBuilder, outDir: string, config: ExtensionConfig): Promise<string> {
  const dir = await builder.buildExtension({ outDir, config });
  await replaceFileAtomically(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return dir;
}

export async function startDemo(options: {
  port?: number;
  editorPort?: number;
  previewPort?: number;
  dataDir?: string;
  extensionDir?: string;
  logger: Logger;
}): Promise<DemoHandle> {
  const dataDir = options.dataDir ?? DEFAULT_DEMO_DATA_DIR;
  const host = '127.0.0.1';
  const extension = (await import(pathToFileURL(join(EXTENSION_DIR, 'build.mjs')).href)) as ExtensionBuilder;
  // Bind first (ports may be 0), then name the origins: localhost and 127.0.0.1 are different sites.
  const [editorJs, previewJs] = await Promise.all([bundle(join(DEMO_DIR, 'editor.ts')), bundle(join(DEMO_DIR, 'preview.ts'))]);
  const [editorHtml, previewHtml] = await Promise.all([
    readFile(join(DEMO_DIR, 'editor.html'), 'utf8'),
    readFile(join(DEMO_DIR, 'preview.html'), 'utf8'),
  ]);
  const editorFiles: Record<string, { type: string; body: string }> = {
    '/index.html': { type: 'text/html; charset=utf-8', body: editorHtml },
    '/editor.js': { type: 'text/javascript; charset=utf-8', body: editorJs },
  };
  const editor = await serve(host, options.editorPort ?? DEFAULT_EDITOR_PORT, editorFiles);
  const preview = await serve(host, options.previewPort ?? DEFAULT_PREVIEW_PORT, {
    '/preview.html': { type: 'text/html; charset=utf-8', body: previewHtml },
    '/preview.js': { type: 'text/javascript; charset=utf-8', body: previewJs },
  });
  const editorOrigin = `http://localhost:${editor.port}`;
  const previewOrigin = `http://127.0.0.1:${preview.port}`;
  const secrets = await ensureDemoConfig(dataDir, editorOrigin, extension.EXTENSION_ID);
  const hub = await startHub({ port: options.port ?? DEFAULT_PORT, dataDir, logger: options.logger });
  editorFiles['/demo-config.json'] = {
    type: 'application/json',
    body: JSON.stringify({
      hubUrl: hub.url,
      previewOrigin,
      extensionId: extension.EXTENSION_ID,
      bridge: { name: 'demo-editor', secret: secrets.editor },
    }),
  };
  const service = await startService(hub.url, secrets.service);
  // The extension gets its hub and credentials compiled in: build it for this hub.
  const extensionConfig: ExtensionConfig = {
    hubUrl: hub.url,
    name: 'demo-extension',
    secret: secrets.extension,
    pageOrigins: [editorOrigin],
  };
  const extensionDir = await buildDemoExtension(extension, options.extensionDir ?? EXTENSION_DIR, extensionConfig);
  return {
    hub,
    extensionDir,
    editorUrl: `${editorOrigin}/`,
    previewOrigin,
    close: async () => {
      service.stop();
      await service.bus.close();
      await new Promise<void>((r) => editor.server.close(() => r()));
      await new Promise<void>((r) => preview.server.close(() => r()));
      editor.server.closeAllConnections();
      preview.server.closeAllConnections();
      await hub.close();
    },
  };
}

export async function demoCommand(argv: string[], logger: Logger, out: (line: string) => void): Promise<number> {
  const { values } = parseOptions(DEMO_OPTIONS, argv, false);
  if (values.help) {
    out(DEMO_HELP);
    return 0;
  }
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TypeError(`--${name} must be a port number, got ${v}`);
    return n;
  };
  const opts: Parameters<typeof startDemo>[0] = { logger };
  const port = num(values.port, 'port');
  const editorPort = num(values['editor-port'], 'editor-port');
  const previewPort = num(values['preview-port'], 'preview-port');
  if (port !== undefined) opts.port = port;
  if (editorPort !== undefined) opts.editorPort = editorPort;
  if (previewPort !== undefined) opts.previewPort = previewPort;
  if (values.data !== undefined) opts.dataDir = values.data;
  if (values['extension-dir'] !== undefined) opts.extensionDir = values['extension-dir'];
  const demo = await startDemo(opts);
  out(`crossbus hub listening on ${demo.hub.url}`);
  out(`crossbus demo: open ${demo.editorUrl} (the preview iframe comes from ${demo.previewOrigin})`);
  out(`crossbus demo: the extension is built in ${demo.extensionDir} (chrome://extensions > Developer mode > Load unpacked)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await demo.close();
  return 0;
}
