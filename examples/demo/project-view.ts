/**
 * The editor page's view of the project document: two replicas of it on the page's connection to
 * the Node hub (the page hub has no streams: documents live where the log is), each with its own
 * store, so they are two editors as far as the document knows. Both edit README.md through a
 * textarea; the conflicts panel lists what they (or the extension) parked; notes.md is shown as
 * the extension writes it. Every change editor A sees also goes out as `edits.doc` on the page
 * hub, for the extension's content scripts and the traffic log.
 */
import { MemorySyncStore, type SyncDocument, type SyncingBus } from '../../src/browser/sync.js';
import { ConflictsPanel } from './conflicts-panel.js';
import { TextareaBinding } from './textarea-binding.js';

/** The project's names, as the demo server puts them in the page. */
export interface ProjectConfig {
  doc: string;
  readme: string;
  notes: string;
}

export interface ProjectView {
  a: TextareaBinding;
  b: TextareaBinding;
  panel: ConflictsPanel;
}

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

/**
 * Manual mode: edits are kept until `sync()`, those made meanwhile joined into one change; the
 * binding calls it after every edit when live, and when a held editor goes live again.
 */
const EDITOR_OPTIONS = { kind: 'files', mode: 'manual' } as const;

export async function openProjectView(
  remote: SyncingBus,
  project: ProjectConfig,
  onText: (text: string) => void,
  onError: (err: unknown) => void,
  onEvent: (text: string) => void,
): Promise<ProjectView> {
  $('doc-name').textContent = project.doc;
  // One replica per document and store: a store each makes them two replicas.
  const [docA, docB] = await Promise.all([
    remote.sync.open(project.doc, { ...EDITOR_OPTIONS, store: new MemorySyncStore() }),
    remote.sync.open(project.doc, { ...EDITOR_OPTIONS, store: new MemorySyncStore() }),
  ]);
  const a = new TextareaBinding($('source') as HTMLTextAreaElement, docA, project.readme, $('state-a'), onError);
  const b = new TextareaBinding($('source-b') as HTMLTextAreaElement, docB, project.readme, $('state-b'), onError);
  for (const [box, binding] of [
    ['live-a', a],
    ['live-b', b],
  ] as const) {
    const input = $(box) as HTMLInputElement;
    input.addEventListener('change', () => {
      binding.live = input.checked;
    });
  }
  const names = new Map([
    [docA.replica, 'editor A'],
    [docB.replica, 'editor B'],
  ]);
  const who = (replica: string): string => names.get(replica) ?? `replica ${replica.slice(0, 8)}`;
  const panel = new ConflictsPanel($('conflicts'), $('conflict-count'), {
    doc: docA,
    resolveWith: () => (a.live || !b.live ? docA : docB),
    label: who,
    onError,
  });
  const readmeOf = (doc: SyncDocument): string => {
    const text = doc.readFile(project.readme);
    return typeof text === 'string' ? text : '';
  };
  const showNotes = (): void => {
    const notes = docA.readFile(project.notes);
    $('notes').textContent = typeof notes === 'string' ? notes : '';
  };
  docA.on('change', () => {
    showNotes();
    onText(readmeOf(docA));
  });
  docA.on('conflict', (c) => onEvent(`${project.doc} ${c.path}: ${who(c.replica)}'s change parked (${c.strategy})`));
  docA.on('resolved', (c) =>
    onEvent(
      `${project.doc} ${c.path}: ${c.resolvedBy === undefined ? 'decided' : `settled by ${who(c.resolvedBy)}`}: ${c.resolution ?? ''} taken`,
    ),
  );
  showNotes();
  return { a, b, panel };
}
