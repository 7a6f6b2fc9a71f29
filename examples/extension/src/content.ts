/**
 * The content script, in every frame of http://localhost and http://127.0.0.1 pages: each frame
 * gets its own connection (its own identity at the extension's hub). It announces itself, counts
 * the words of every edit the demo editor makes, and answers `ext.frame.<n>.url`.
 */
import { connectWith } from '../../../src/browser/index.js';
import { extensionConnector } from '../../../src/transports/extension/index.js';

async function main(): Promise<void> {
  const bus = await connectWith(extensionConnector({ name: 'content' }), { name: 'content' });
  const frame = { url: location.href, top: window === window.top };
  let words = 0;
  bus.subscribe('edits.doc', (m) => {
    words = String((m.data as { text?: unknown })?.text ?? '')
      .split(/\s+/)
      .filter(Boolean).length;
  });
  bus.serve('ext.content.stats', () => ({ ...frame, words }));
  await bus.flush();
  await bus.publish('ext.content.hello', frame);
  // Reconnected after the service worker was stopped: say hello again (the worker started afresh).
  bus.on('connected', (e) => {
    if (e.reconnected) void bus.publish('ext.content.hello', { ...frame, again: true }).catch(() => {});
  });
}

main().catch(() => {
  /* not on a demo page, or the extension was reloaded: nothing to do */
});
