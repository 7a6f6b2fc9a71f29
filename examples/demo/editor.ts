/**
 * The demo's "project editor" (http://localhost:7071). It hosts a crossbus hub in the page: the
 * preview iframe (another origin) joins it through postMessage, apps are known by their origins,
 * and a bridge joins this hub to the Node hub (ws://127.0.0.1:7070) so the Node service and the
 * extension share the topic space. Everything on the page hub is shown live at the bottom.
 * Two editors edit the project document on the Node hub (./project-view.ts), which the preview and
 * the extension open too.
 * The page holds no secret: the Node hub knows the bridge by the Origin header the browser sends
 * (a page on another site cannot claim this one's), and the settings come from the server in the
 * page itself (`#demo-config`), never from the URL.
 */
import { Broker, HubSecurity, createWebCryptoProvider, parseHubConfig, type AuditEvent } from '../../src/core/index.js';
import { bridge, connect, connectWith, memoryConnector } from '../../src/browser/index.js';
import { listenWindow } from '../../src/transports/postmessage/index.js';
import { extensionConnector } from '../../src/transports/extension/index.js';
import { openProjectView, type ProjectConfig, type ProjectView } from './project-view.js';

/** Put in the page by the demo server. */
interface DemoConfig {
  hubUrl: string;
  /** The app the Node hub knows this page's origin as. */
  bridgeApp: string;
  previewOrigin: string;
  extensionId: string;
  project: ProjectConfig;
}

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
const traffic = $('traffic');
function log(kind: 'in' | 'out' | 'err', text: string): void {
  const line = document.createElement('div');
  line.className = kind;
  line.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  traffic.prepend(line);
  while (traffic.childElementCount > 200) traffic.lastElementChild?.remove();
}

async function main(): Promise<void> {
  const demo = JSON.parse($('demo-config').textContent ?? '') as DemoConfig;
  const audit = {
    record: (e: AuditEvent) => {
      if (e.outcome !== 'success') log('err', `audit: ${e.action} ${e.outcome} ${e.reason ?? ''} (${e.actor.origin ?? e.actor.address})`);
    },
  };
  const config = parseHubConfig({
    apps: {
      editor: { origins: [location.origin], roles: ['editor'] },
      preview: { origins: [demo.previewOrigin], roles: ['preview'] },
    },
    roles: {
      editor: { publish: ['edits.>', 'build.>', 'format.>'], subscribe: ['>'], request: ['format.>', 'preview.>'] },
      // The preview reads the project from the Node hub, where its app may read it and nothing more.
      preview: { publish: ['preview.>'], subscribe: ['build.>', 'preview.>'], request: ['format.>'] },
    },
  });
  const broker = new Broker({
    heartbeatMs: 5_000,
    security: new HubSecurity({ crypto: createWebCryptoProvider(), config, audit, identifyByOrigin: true }),
  });
  listenWindow({
    allowedOrigins: [demo.previewOrigin],
    onConnection: (t) => broker.accept(t),
    onRefused: (info) => log('err', `refused a connection from ${info.origin}: ${info.reason}`),
  });
  const local = memoryConnector(broker, { vouchedOrigin: location.origin });
  const bus = await connectWith(local, { name: 'editor' });
  // Show everything that crosses the page hub.
  bus.subscribe('>', (m) => log('in', `${m.topic} ${JSON.stringify(m.data)?.slice(0, 120) ?? ''}`));

  // Join the Node hub: the Node service, the extension and the project document live there.
  let remote: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    // No secret: the Node hub identifies this page by its Origin (identifyByOrigin).
    remote = await connect(demo.hubUrl, { name: demo.bridgeApp });
    const link = await connectWith(local, { name: 'bridge' });
    bridge(link, remote, { exports: ['edits.>'], imports: ['build.>', 'ext.>'], remoteServices: ['format.>'] });
    $('status').textContent = `page hub up; bridged to ${demo.hubUrl}`;
  } catch (err) {
    $('status').textContent = `page hub up; the Node hub is unreachable (${(err as Error).message})`;
  }

  const source = $('source') as HTMLTextAreaElement;
  // What editor A shows goes out on the page hub too (the extension's content scripts count its words).
  let published: string | undefined;
  const publishEdit = (text: string): void => {
    if (text === published) return;
    published = text;
    bus.publish('edits.doc', { text, at: Date.now() }).catch(() => {});
  };
  $('format').addEventListener('click', async () => {
    try {
      const r = (await bus.request('format.markdown', { text: source.value }, { timeoutMs: 3_000 })) as { text: string };
      source.value = r.text;
      source.dispatchEvent(new Event('input'));
      $('answer').textContent = 'formatted by the Node service';
    } catch (err) {
      $('answer').textContent = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
    }
  });
  $('stats').addEventListener('click', async () => {
    try {
      const r = (await bus.request('preview.stats', {}, { timeoutMs: 3_000 })) as { words: number; lines: number };
      $('answer').textContent = `preview says: ${r.words} words, ${r.lines} lines`;
    } catch (err) {
      $('answer').textContent = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
    }
  });
  (document.getElementById('preview') as HTMLIFrameElement).src = `${demo.previewOrigin}/preview.html`;
  const problem = (err: unknown): void => log('err', `project: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
  let project: ProjectView | undefined;
  try {
    if (remote !== undefined) {
      project = await openProjectView(remote, demo.project, publishEdit, problem, (text) => log('out', `[sync] ${text}`));
    }
  } catch (err) {
    problem(err);
  }
  (globalThis as { demo?: unknown }).demo = { bus, broker, project };
  await joinExtension(demo.extensionId);
}

/**
 * With the demo extension installed, Chrome gives this page chrome.runtime.connect (the manifest's
 * externally_connectable): connect to the extension's hub directly and show what it says.
 */
async function joinExtension(extensionId: string): Promise<void> {
  const runtime = (globalThis as { chrome?: { runtime?: { connect?: unknown } } }).chrome?.runtime;
  if (typeof runtime?.connect !== 'function') {
    $('ext').textContent = 'extension: not installed (see the README: load examples/extension unpacked)';
    return;
  }
  try {
    const ext = await connectWith(extensionConnector({ extensionId }), { name: 'editor' });
    const info = (await ext.request('ext.info', {})) as { id: string; connections: unknown[] };
    $('ext').textContent = `extension ${info.id} connected (${info.connections.length} connections at its hub)`;
    ext.subscribe('ext.content.>', (m) => log('in', `[extension hub] ${m.topic} ${JSON.stringify(m.data)}`));
  } catch (err) {
    $('ext').textContent = `extension: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
  }
}

main().catch((err) => {
  $('status').textContent = `failed: ${(err as Error).message}`;
});
