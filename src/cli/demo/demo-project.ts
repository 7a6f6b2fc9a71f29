/**
 * The demo's project: one replicated file tree (`demo/project`) that the editor page (two
 * editors), the preview and the extension open. The Node service creates it and writes its first
 * files when the hub has none, so every page finds it there, whatever opens first.
 */
import type { SyncDocument } from '../../client/sync/sync-doc.js';
import type { SyncingBus } from '../../node/index.js';

/** The document's name: topic `sync.demo.project`, inside the demo roles' `sync.demo.>`. */
export const DEMO_PROJECT_DOC = 'demo/project';
/** The file both editors edit (and the preview renders). */
export const DEMO_README = '/README.md';
/** The file the extension edits (its popup). */
export const DEMO_NOTES = '/notes.md';

const FIRST_FILES: ReadonlyArray<readonly [string, string]> = [
  [
    DEMO_README,
    '# Hello crossbus\n\nEdit me in editor A or B: every edit is a change in the project document on the Node hub.\nUntick "live" on both, edit one line in each, tick them again: a merge, or a conflict to settle.\n',
  ],
  [DEMO_NOTES, 'Notes from the extension (click its toolbar icon to edit them).\n'],
];

/** Opens the project on the service's bus; a new one (or one missing a file) gets the first files. */
export async function openDemoProject(bus: SyncingBus): Promise<SyncDocument> {
  const project = await bus.sync.open(DEMO_PROJECT_DOC, { kind: 'files' });
  for (const [path, text] of FIRST_FILES) if (project.readFile(path) === undefined) await project.writeFile(path, text);
  await project.flushed();
  return project;
}
