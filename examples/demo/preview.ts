/**
 * The demo's live preview (http://127.0.0.1:7072), framed by the editor on another origin. It
 * joins the editor's page hub through postMessage (the hub's origin is checked both ways), renders
 * every edit, answers `preview.stats` requests, and asks the Node service to format through the bridge.
 */
import { connectWith } from '../../src/browser/index.js';
import { windowConnector } from '../../src/transports/postmessage/index.js';

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

async function main(): Promise<void> {
  const hubOrigin = new URLSearchParams(location.search).get('hub') ?? 'http://localhost:7071';
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
