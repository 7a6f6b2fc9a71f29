/**
 * The extension's popup (its toolbar button): edits notes.md of the project through the service
 * worker's replica (`project.notes`), and shows README.md as the editors change it
 * (`project.changed`). It holds no replica and no credential: the worker has both.
 */
import { connectWith } from '../../../src/browser/index.js';
import { extensionConnector } from '../../../src/transports/extension/index.js';
import type { ProjectState } from './project.js';

/** How long the popup waits for the worker's hub to serve the project (it may be starting). */
const OPEN_TIMEOUT_MS = 20_000;

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

async function main(): Promise<void> {
  const bus = await connectWith(extensionConnector({ name: 'popup' }), { name: 'popup' });
  const notes = $('notes') as HTMLTextAreaElement;
  const show = (s: ProjectState, withNotes: boolean): void => {
    $('readme').textContent = s.readme;
    $('state').textContent = `log seq ${s.seq}, replica ${s.replica.slice(0, 8)}`;
    // The popup is the notes' writer: its own edits coming back would only move the caret.
    if (withNotes && notes.value !== s.notes) notes.value = s.notes;
  };
  bus.subscribe('project.changed', (m) => {
    const s = m.data as ProjectState;
    show(s, s.origin === 'remote');
  });
  await bus.flush();
  show((await bus.request('project.read', {}, { timeoutMs: OPEN_TIMEOUT_MS })) as ProjectState, true);
  notes.disabled = false;
  notes.addEventListener('input', () => {
    bus.request('project.notes', { text: notes.value }, { timeoutMs: OPEN_TIMEOUT_MS }).then(
      (s) => show(s as ProjectState, false),
      (err: unknown) => {
        $('state').textContent = `not saved: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
      },
    );
  });
  (globalThis as { demo?: unknown }).demo = { bus };
}

main().catch((err) => {
  $('state').textContent = `failed: ${(err as Error).message}`;
});
