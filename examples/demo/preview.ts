/**
 * The demo's live preview (http://127.0.0.1:7072), framed by the editor on another origin. It
 * joins the editor's page hub through postMessage (the hub's origin is checked both ways), renders
 * every edit, answers `preview.stats` requests, and asks the Node service to format through the bridge.
 * The hub's origin is the server's setting (`#demo-config`), never the URL's: a page that framed
 * this one with a hub origin of its own choosing would become its hub. The server also lets only
 * the editor frame it (`frame-ancestors`).
 */
import { connectWith } from '../../src/browser/index.js';
import { windowConnector } from '../../src/transports/postmessage/index.js';

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

async function main(): Promise<void> {
  const { hubOrigin } = JSON.parse($('demo-config').textContent ?? '') as { hubOrigin: string };
  $('origin').textContent = location.origin;
  const bus = await connectWith(windowConnector({ target: window.parent, hubOrigin }), { name: 'preview' });
  let text = '';
  bus.subscribe('edits.doc', (m) => {
    text = (m.data as { text: string }).text;
    $('doc').textContent = text;
  });
  bus.subscribe('build.>', (m) => {
    $('build').textContent = `${m.topic}: ${JSON.stringify(m.data)}`;
  });
  bus.serve('preview.stats', () => ({ words: text.split(/\s+/).filter(Boolean).length, lines: text.split('\n').length }));
  await bus.flush();
  await bus.publish('preview.ready', { origin: location.origin });
  $('status').textContent = `connected to the page hub at ${hubOrigin}`;
  (globalThis as { demo?: unknown }).demo = { bus };
}

main().catch((err) => {
  $('status').textContent = `failed: ${(err as Error).message}`;
});
