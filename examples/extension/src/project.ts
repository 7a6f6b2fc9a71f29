/**
 * The project document, as the extension has it: a replica in the service worker, opened on the
 * Node hub with the extension's own credentials and kept in IndexedDB (its offline edits and
 * what it read survive Chrome stopping the worker). The extension's own contexts reach it on the
 * worker's hub: `project.read` answers the files it shows, `project.notes` writes notes.md (and
 * answers once the change is in the document's log), and `project.changed` tells of every change.
 * Web pages get no grant on `project.>`.
 */
import type { Bus, SyncingBus } from '../../../src/browser/index.js';
import { IndexedDbSyncStore, type SyncDocument } from '../../../src/browser/sync.js';

/** The files the extension shows and the one it writes. */
const README = '/README.md';
const NOTES = '/notes.md';

export interface ProjectState {
  replica: string;
  seq: number;
  readme: string;
  notes: string;
  /** Why it changed: an edit here (`local`), or the log (`remote`); absent when asked. */
  origin?: 'local' | 'remote';
}

/** Serves `project.>` on the worker's hub at once; requests wait until the document is open. */
export function serveProject(local: Bus, remote: Promise<SyncingBus>, project: { doc: string; database: string }): Promise<SyncDocument> {
  const store = new IndexedDbSyncStore({ database: project.database });
  const opened = remote.then((r) => r.sync.open(project.doc, { kind: 'files', store }));
  opened.catch(() => {}); // answered to each request, and reported by the caller
  const text = (doc: SyncDocument, path: string): string => {
    const t = doc.readFile(path);
    return typeof t === 'string' ? t : '';
  };
  const state = (doc: SyncDocument): ProjectState => ({
    replica: doc.replica,
    seq: doc.seq,
    readme: text(doc, README),
    notes: text(doc, NOTES),
  });
  local.serve('project.read', async () => state(await opened));
  local.serve('project.notes', async (m) => {
    const doc = await opened;
    await doc.writeFile(NOTES, String((m.data as { text?: unknown })?.text ?? ''));
    await doc.flushed();
    return state(doc);
  });
  void opened.then(
    (doc) =>
      doc.on('change', (e) => {
        local.publish('project.changed', { ...state(doc), origin: e.origin }).catch(() => {});
      }),
    () => {},
  );
  return opened;
}
