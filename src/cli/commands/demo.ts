/**
 * `crossbus demo` (what `npm start` runs): a hub on its defaults plus the demo a newcomer can
 * open — a project editor on http://localhost:7071 that hosts a page hub, a live preview iframe
 * on http://127.0.0.1:7072 (another site) joined through postMessage, a Node service answering
 * requests, and the unpacked extension in examples/extension. All of them open one replicated
 * document, `demo/project`: two editors in the page, the preview (read-only), the extension.
 *
 * It shows the secure way: no page receives a secret (the Node hub knows the editor's bridge by
 * its browser-enforced Origin), every page says who may frame it, the servers answer only to
 * their own host names, and each page gets its peers' origins from the server, never from its
 * URL. It runs from a clone of the repository: it serves the sources in examples/ and bundles
 * them with esbuild, a dev dependency (an installed package has neither: see README).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startHub, type Hub } from '../../hub/hub.js';
import { replaceFileAtomically } from '../../node/atomic-file.js';
import type { Logger } from '../../core/util/logger.js';
import { HELP_OPTION, UsageError, defineOptions, optionsHelp, parseOptions } from '../options.js';
import { LOG_OPTIONS, cliLogger, logOptions, type CliLoggerOptions } from '../logger.js';
import { DEFAULT_PORT } from '../../hub/defaults.js';
import { DEFAULT_DEMO_DATA_DIR, DEFAULT_EDITOR_PORT, DEFAULT_PREVIEW_PORT } from '../defaults.js';
import { DEMO_EDITOR_APP, DEMO_PREVIEW_APP, ensureDemoConfig } from '../demo/demo-config.js';
import { DEMO_NOTES, DEMO_PROJECT_DOC, DEMO_README } from '../demo/demo-project.js';
import { startDemoService } from '../demo/demo-service.js';
import { listenPages, withPageConfig, type PageServer } from '../demo/page-server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEMO_DIR = join(ROOT, 'examples', 'demo');
const EXTENSION_DIR = join(ROOT, 'examples', 'extension');

/** Said instead of a stack trace when the demo's sources are not there (an installed package). */
export const DEMO_NEEDS_REPOSITORY = `crossbus demo runs from a clone of the crossbus repository: it serves the pages in examples/demo
and builds examples/extension with esbuild (a dev dependency), and an installed package has neither.
Clone the repository, then: npm install && npm start`;

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
  /** The project document the service worker opens, and the IndexedDB database its replica keeps. */
  project?: { doc: string; database: string };
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
  'no-dashboard': { type: 'boolean', description: 'do not serve the dashboard at <hub>/dashboard/' },
  ...LOG_OPTIONS,
  ...HELP_OPTION,
});

export const DEMO_HELP = `Usage: crossbus demo [--port ${DEFAULT_PORT}] [--editor-port ${DEFAULT_EDITOR_PORT}] [--preview-port ${DEFAULT_PREVIEW_PORT}] [--data ${DEFAULT_DEMO_DATA_DIR}] [--extension-dir ${relative(ROOT, EXTENSION_DIR)}]

Starts a hub and the demo: open the editor at http://localhost:${DEFAULT_EDITOR_PORT}. It hosts a crossbus hub in
the page; the preview iframe (http://127.0.0.1:${DEFAULT_PREVIEW_PORT}, another site) joins it through postMessage;
a bridge joins the page hub to this hub, where a Node service formats documents; the extension in
examples/extension joins the same bus (load it unpacked: see the README); the demo builds it for
this hub (into --extension-dir). The page's two editors, the preview and the extension share the
replicated document demo/project: edit one line in both editors at once to see a conflict parked.
Ports 0 pick free ones. Runs from a clone of the repository.

${optionsHelp([{ title: 'Options:', options: DEMO_OPTIONS }])}`;

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

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

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

/** True when the demo's sources are here: a clone of the repository, not an installed package. */
export function demoSourcesPresent(): boolean {
  return existsSync(join(DEMO_DIR, 'editor.ts')) && existsSync(join(EXTENSION_DIR, 'build.mjs'));
}

export async function startDemo(options: {
  port?: number;
  editorPort?: number;
  previewPort?: number;
  dataDir?: string;
  extensionDir?: string;
  /** Serve the hub's dashboard. @default true */
  dashboard?: boolean;
  logger: Logger;
}): Promise<DemoHandle> {
  const dataDir = options.dataDir ?? DEFAULT_DEMO_DATA_DIR;
  const bind = '127.0.0.1';
  const extension = (await import(pathToFileURL(join(EXTENSION_DIR, 'build.mjs')).href)) as ExtensionBuilder;
  const [editorJs, previewJs, editorHtml, previewHtml] = await Promise.all([
    bundle(join(DEMO_DIR, 'editor.ts')),
    bundle(join(DEMO_DIR, 'preview.ts')),
    readFile(join(DEMO_DIR, 'editor.html'), 'utf8'),
    readFile(join(DEMO_DIR, 'preview.html'), 'utf8'),
  ]);
  // Bind first (ports may be 0), then name the origins: localhost and 127.0.0.1 are different
  // sites. The editor is framed by nobody; the preview by the editor alone.
  const editor = await listenPages({
    bind,
    hostName: 'localhost',
    port: options.editorPort ?? DEFAULT_EDITOR_PORT,
    frameAncestors: "'none'",
  });
  let preview: PageServer;
  try {
    preview = await listenPages({
      bind,
      hostName: '127.0.0.1',
      port: options.previewPort ?? DEFAULT_PREVIEW_PORT,
      frameAncestors: editor.origin,
    });
  } catch (err) {
    await editor.close();
    throw err;
  }
  const secrets = await ensureDemoConfig(dataDir, { editor: editor.origin, preview: preview.origin }, extension.EXTENSION_ID);
  // The Node hub knows the editor's bridge by the Origin its browser sends: no secret in the page.
  const hub = await startHub({
    port: options.port ?? DEFAULT_PORT,
    dataDir,
    logger: options.logger,
    identifyByOrigin: true,
    dashboard: options.dashboard ?? true,
  });
  // The service first: it creates the project document the pages and the extension open.
  const service = await startDemoService(hub.url, secrets.service);
  const project = { doc: DEMO_PROJECT_DOC, readme: DEMO_README, notes: DEMO_NOTES };
  const editorConfig = {
    hubUrl: hub.url,
    bridgeApp: DEMO_EDITOR_APP,
    previewOrigin: preview.origin,
    extensionId: extension.EXTENSION_ID,
    project,
  };
  editor.files.set('/index.html', { type: HTML, body: withPageConfig(editorHtml, editorConfig) });
  editor.files.set('/editor.js', { type: JS, body: editorJs });
  const previewConfig = { hubOrigin: editor.origin, nodeHubUrl: hub.url, app: DEMO_PREVIEW_APP, project };
  preview.files.set('/preview.html', { type: HTML, body: withPageConfig(previewHtml, previewConfig) });
  preview.files.set('/preview.js', { type: JS, body: previewJs });
  // The extension gets its hub and credentials compiled in: build it for this hub.
  const extensionConfig: ExtensionConfig = {
    hubUrl: hub.url,
    name: 'demo-extension',
    secret: secrets.extension,
    pageOrigins: [editor.origin],
    project: { doc: DEMO_PROJECT_DOC, database: `crossbus-demo-${secrets.instance}` },
  };
  const extensionDir = await buildDemoExtension(extension, options.extensionDir ?? EXTENSION_DIR, extensionConfig);
  return {
    hub,
    extensionDir,
    editorUrl: `${editor.origin}/`,
    previewOrigin: preview.origin,
    close: async () => {
      service.stop();
      await service.bus.close();
      await editor.close();
      await preview.close();
      await hub.close();
    },
  };
}

/** `logger`: how the demo logs, given the --log-level and --log-format it was started with. */
export async function demoCommand(
  argv: string[],
  out: (line: string) => void,
  logger: (options: CliLoggerOptions) => Logger = cliLogger,
): Promise<number> {
  const { values } = parseOptions(DEMO_OPTIONS, argv, false);
  if (values.help) {
    out(DEMO_HELP);
    return 0;
  }
  if (!demoSourcesPresent()) {
    process.stderr.write(`${DEMO_NEEDS_REPOSITORY}\n`);
    return 1;
  }
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be a port number, got ${v}`);
    return n;
  };
  const opts: Parameters<typeof startDemo>[0] = { logger: logger(logOptions(values['log-level'], values['log-format'])) };
  const port = num(values.port, 'port');
  const editorPort = num(values['editor-port'], 'editor-port');
  const previewPort = num(values['preview-port'], 'preview-port');
  if (port !== undefined) opts.port = port;
  if (editorPort !== undefined) opts.editorPort = editorPort;
  if (previewPort !== undefined) opts.previewPort = previewPort;
  if (values.data !== undefined) opts.dataDir = values.data;
  if (values['extension-dir'] !== undefined) opts.extensionDir = values['extension-dir'];
  if (values['no-dashboard'] === true) opts.dashboard = false;
  const demo = await startDemo(opts);
  out(`crossbus hub listening on ${demo.hub.url}`);
  out(`crossbus demo: open ${demo.editorUrl} (the preview iframe comes from ${demo.previewOrigin})`);
  if (demo.hub.dashboardUrl !== undefined) {
    out(
      `crossbus demo: the dashboard is at ${demo.hub.dashboardUrl} (log in as app "admin" with its secret from ${demo.hub.configPath ?? 'the config'})`,
    );
  }
  out(`crossbus demo: the extension is built in ${demo.extensionDir} (chrome://extensions > Developer mode > Load unpacked)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await demo.close();
  return 0;
}
