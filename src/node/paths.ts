/** Where a hub keeps its state. One place, so the hub and every CLI command agree. */
import { join } from 'node:path';

/** `{ pid, url }` of the running hub; lets `reload` and `consent` reach it. */
export const HUB_PID_FILE_NAME = 'hub.pid';
export const AUDIT_FILE_NAME = 'audit.jsonl';
/** Held by the running hub: one hub per data folder (see dir-lock.ts). */
export const HUB_LOCK_FILE_NAME = 'hub.lock';

export function dataFile(dataDir: string, name: string): string {
  return join(dataDir, name);
}
