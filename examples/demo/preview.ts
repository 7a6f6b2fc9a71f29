/**
 * The demo's live preview (http://127.0.0.1:7072), framed by the editor on another origin. It
 * joins the editor's page hub through postMessage (the hub's origin is checked both ways), answers
 * `preview.stats` requests and shows build statuses. It renders the project document from a
 * replica of its own on the Node hub, where its app (known by this origin, no secret) may read
 * `sync.demo.>` and write nothing: an edit from here would be refused by the hub.
 * Every peer is the server's setting (`#demo-config`), never the URL's: a page that framed this
 * one with a hub origin of its own choosing would become its hub. The server also lets only the
 * editor frame it (`frame-ancestors`), and the project is opened only once the editor's hub answered.
 */
import { connect, connectWith } from '../../src/browser/index.js';
import { windowConnector } from '../../src/transports/postmessage/index.js';

interface PreviewConfig {
  /** The editor's page hub. */
  hubOrigin: string;
  /** The Node hub, and the app this origin is there. */
  nodeHubUrl: string;
  app: string;
  project: { doc: string; readme: string; notes: string };
}

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

async function main(): Promise<void> {
  const config = JSON.parse($('demo-config').textContent ?? '') as PreviewConfig;
  const { hubOrigin } = config;
  $('origin').textContent = location.origin;
  const bus = await connectWith(windowConnector({ target: window.parent, hubOrigin }), { name: 'preview' });
  let text = '';
  bus.subscribe('build.>', (m) => {
    $('build').textContent = `${m.topic}: ${JSON.stringify(m.data)}`;
  });
  bus.serve('preview.stats', () => ({ words: text.split(/\s+/).filter(Boolean).length, lines: text.split('\n').length }));
  await bus.flush();
  await bus.publish('preview.ready', { origin: location.origin });
  $('status').textContent = `connected to the page hub at ${hubOrigin}`;

  const node = await connect(config.nodeHubUrl, { name: config.app });
  const project = await node.sync.open(config.project.doc, { kind: 'files' });
  const render = (): void => {
    const readme = project.readFile(config.project.readme);
    const notes = project.readFile(config.project.notes);
    text = typeof readme === 'string' ? readme : '';
    $('doc').textContent = text;
    $('notes').textContent = typeof notes === 'string' ? notes : '';
    $('project').textContent = `${project.name}, read-only, at log seq ${project.seq}`;
  };
  project.on('change', render);
  render();
  (globalThis as { demo?: unknown }).demo = { bus, node, project };
}

main().catch((err) => {
  $('status').textContent = `failed: ${(err as Error).message}`;
});
