/** The Node side of the demo: answers `format.markdown` and reports a build status now and then. */
import { connect, type Bus } from '../../node/index.js';

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

export async function startDemoService(url: string, secret: string): Promise<{ bus: Bus; stop(): void }> {
  const bus = await connect(url, { name: 'demo-service', secret });
  bus.serve('format.markdown', (m) => ({ text: formatMarkdown(String((m.data as { text?: unknown })?.text ?? '')) }));
  let n = 0;
  const timer = setInterval(
    () => void bus.publish('build.status', { build: ++n, ok: true, at: new Date().toISOString() }).catch(() => {}),
    BUILD_STATUS_INTERVAL_MS,
  );
  return { bus, stop: () => clearInterval(timer) };
}
