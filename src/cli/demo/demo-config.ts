/**
 * The demo hub's config: the usual apps plus one per demo part. The editor page's bridge is
 * identified by its origin (the hub runs with `identifyByOrigin`), so it has no secret, and no
 * secret is ever served to a page: the Node service and the extension keep theirs on this side.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE_NAME, createDefaultConfig } from '../../node/config/config-file.js';
import { replaceFileAtomically } from '../../node/atomic-file.js';

/** The secrets of the demo's non-browser parts. */
export interface DemoSecrets {
  service: string;
  extension: string;
}

/** The app the editor page's bridge is: known by the editor's origin, never by a secret. */
export const DEMO_EDITOR_APP = 'demo-editor';

export async function ensureDemoConfig(dataDir: string, editorOrigin: string, extensionId: string): Promise<DemoSecrets> {
  const path = join(dataDir, CONFIG_FILE_NAME);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const text = existsSync(path) ? await readFile(path, 'utf8') : undefined;
  const doc = (text === undefined ? createDefaultConfig() : JSON.parse(text)) as ReturnType<typeof createDefaultConfig>;
  const secret = (): string => randomBytes(32).toString('base64');
  const apps = doc.apps as Record<string, { secret?: string; origins?: string[]; roles: string[] }>;
  // Rewritten every run: the editor's port may change, and a secret left from older demos must go.
  apps[DEMO_EDITOR_APP] = { origins: [editorOrigin], roles: ['demo-bridge'] };
  apps['demo-service'] ??= { secret: secret(), roles: ['demo-service'] };
  apps['demo-extension'] ??= { secret: secret(), roles: ['demo-bridge'] };
  const roles = doc.roles as Record<string, unknown>;
  roles['demo-bridge'] = { publish: ['edits.>', 'ext.>'], subscribe: ['build.>', 'ext.>', 'edits.>', 'format.>'], request: ['format.>'] };
  roles['demo-service'] = { publish: ['build.>'], subscribe: ['format.>', 'edits.>'], request: [] };
  // The extension's service worker connects over WebSocket with Origin chrome-extension://<id>.
  for (const origin of [editorOrigin, `chrome-extension://${extensionId}`]) if (!doc.origins.includes(origin)) doc.origins.push(origin);
  await replaceFileAtomically(path, `${JSON.stringify(doc, null, 2)}\n`);
  return {
    service: apps['demo-service'].secret as string,
    extension: apps['demo-extension'].secret as string,
  };
}
