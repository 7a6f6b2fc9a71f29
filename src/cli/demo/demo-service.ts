/**
 * The Node side of the demo: answers `format.markdown`, reports a build status now and then, and
 * keeps the project document open (it created it, see ./demo-project.ts).
 */
import type { SyncDocument } from '../../client/sync/sync-doc.js';
import { connect, type SyncingBus } from '../../node/index.js';
import { openDemoProject } from './demo-project.js';

/** How often the service publishes `build.status`. */
const BUILD_STATUS_INTERVAL_MS = 5_000;

export function formatMarkdown(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^#(?=\S)/gm, '# ');
}

export async function startDemoService(url: string, secret: string): Promise<{ bus: SyncingBus; project: SyncDocument; stop(): void }> {
  const bus = await connect(url, { name: 'demo-service', secret });
  bus.serve('format.markdown', (m) => ({ text: formatMarkdown(String((m.data as { text?: unknown })?.text ?? '')) }));
  let project: SyncDocument;
  try {
    project = await openDemoProject(bus);
  } catch (err) {
    await bus.close();
    throw err;
  }
  let n = 0;
  const timer = setInterval(
    () => void bus.publish('build.status', { build: ++n, ok: true, at: new Date().toISOString() }).catch(() => {}),
    BUILD_STATUS_INTERVAL_MS,
  );
  return { bus, project, stop: () => clearInterval(timer) };
}
