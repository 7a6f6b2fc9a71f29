/**
 * The demo hub's config: the usual apps plus one per demo part. The editor page's bridge and the
 * preview are identified by their origins (the hub runs with `identifyByOrigin`), so they have no
 * secret, and no secret is ever served to a page: the Node service and the extension keep theirs
 * on this side. The project document (`sync.demo.>`) may be written by the editor, the extension
 * and the service, and only read by the preview.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE_NAME, createDefaultConfig } from '../../node/config/config-file.js';
import { replaceFileAtomically } from '../../node/atomic-file.js';

/** The secrets of the demo's non-browser parts, and what names this data folder's demo. */
export interface DemoSecrets {
  service: string;
  extension: string;
  /**
   * Random, kept in the data folder: names the extension's IndexedDB store, so that a demo
   * started afresh (its data folder removed) is not mistaken for the one the store remembers.
   */
  instance: string;
}

/** The app the editor page's bridge is: known by the editor's origin, never by a secret. */
export const DEMO_EDITOR_APP = 'demo-editor';
/** The app the preview is at the Node hub: known by the preview's origin; it may read the project only. */
export const DEMO_PREVIEW_APP = 'demo-preview';
/** The topics of the demo's replicated documents (`demo/project` is `sync.demo.project`). */
const DEMO_SYNC_TOPICS = 'sync.demo.>';
const INSTANCE_FILE = 'demo-instance';

export async function ensureDemoConfig(
  dataDir: string,
  origins: { editor: string; preview: string },
  extensionId: string,
): Promise<DemoSecrets> {
  const path = join(dataDir, CONFIG_FILE_NAME);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const text = existsSync(path) ? await readFile(path, 'utf8') : undefined;
  const doc = (text === undefined ? createDefaultConfig() : JSON.parse(text)) as ReturnType<typeof createDefaultConfig>;
  const secret = (): string => randomBytes(32).toString('base64');
  const apps = doc.apps as Record<string, { secret?: string; origins?: string[]; roles: string[] }>;
  // Rewritten every run: the pages' ports may change, and a secret left from older demos must go.
  apps[DEMO_EDITOR_APP] = { origins: [origins.editor], roles: ['demo-bridge'] };
  apps[DEMO_PREVIEW_APP] = { origins: [origins.preview], roles: ['demo-preview'] };
  apps['demo-service'] ??= { secret: secret(), roles: ['demo-service'] };
  apps['demo-extension'] ??= { secret: secret(), roles: ['demo-bridge'] };
  const roles = doc.roles as Record<string, unknown>;
  roles['demo-bridge'] = {
    publish: ['edits.>', 'ext.>', DEMO_SYNC_TOPICS],
    subscribe: ['build.>', 'ext.>', 'edits.>', 'format.>', DEMO_SYNC_TOPICS],
    request: ['format.>'],
  };
  roles['demo-preview'] = { publish: [], subscribe: [DEMO_SYNC_TOPICS], request: [] };
  roles['demo-service'] = { publish: ['build.>', DEMO_SYNC_TOPICS], subscribe: ['format.>', 'edits.>', DEMO_SYNC_TOPICS], request: [] };
  // The pages and the extension's service worker (Origin chrome-extension://<id>) connect over WebSocket.
  for (const origin of [origins.editor, origins.preview, `chrome-extension://${extensionId}`]) {
    if (!doc.origins.includes(origin)) doc.origins.push(origin);
  }
  await replaceFileAtomically(path, `${JSON.stringify(doc, null, 2)}\n`);
  return {
    service: apps['demo-service'].secret as string,
    extension: apps['demo-extension'].secret as string,
    instance: await ensureInstance(join(dataDir, INSTANCE_FILE)),
  };
}

async function ensureInstance(path: string): Promise<string> {
  const kept = existsSync(path) ? (await readFile(path, 'utf8')).trim() : '';
  if (/^[0-9a-f]{16}$/.test(kept)) return kept;
  const instance = randomBytes(8).toString('hex');
  await replaceFileAtomically(path, `${instance}\n`);
  return instance;
}
