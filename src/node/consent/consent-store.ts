/**
 * Consent decisions and pending requests on disk: `<dataDir>/consent.json`, written atomically
 * and 0600. The hub is its only writer; the CLI only reads it (and talks to the hub through the
 * inbox, see consent-inbox.ts), so there is never a write race on this file.
 */
import { join } from 'node:path';
import { ConfigError } from '../../core/errors/index.js';
import type { ConsentPersistence } from '../../core/security/consent.js';
import { CONSENT_STATE_VERSION, emptyConsentState, parseConsentState, type ConsentState } from '../../core/security/consent-state.js';
import { readIfExists, replaceFileAtomically } from '../atomic-file.js';

export { appendConsentCommand, drainConsentInbox, CONSENT_INBOX_FILE_NAME } from './consent-inbox.js';

/** Name of the consent file inside the hub's data directory. @default 'consent.json' */
export const CONSENT_FILE_NAME = 'consent.json';

export const consentFilePath = (dataDir: string): string => join(dataDir, CONSENT_FILE_NAME);

/**
 * Reads and validates a consent file; a missing file is an empty state. A file that is not
 * valid JSON or not a consent state throws CB_ERR_CONFIG_INVALID naming the file.
 */
export async function readConsentFile(path: string): Promise<ConsentState> {
  const text = await readIfExists(path);
  if (text === undefined) return emptyConsentState();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('CB_ERR_CONFIG_INVALID', `${path}: not valid JSON`, { cause, details: { source: path } });
  }
  return parseConsentState(raw, path);
}

export class FileConsentStore implements ConsentPersistence {
  readonly path: string;

  constructor(dataDir: string) {
    if (typeof dataDir !== 'string' || dataDir === '') {
      throw new ConfigError('CB_ERR_INVALID_OPTION', 'dataDir: must be a non-empty string', { details: { option: 'dataDir' } });
    }
    this.path = consentFilePath(dataDir);
  }

  load(): Promise<ConsentState> {
    return readConsentFile(this.path);
  }

  async save(state: ConsentState): Promise<void> {
    const doc = { version: CONSENT_STATE_VERSION, decisions: state.decisions, pending: state.pending };
    await replaceFileAtomically(this.path, `${JSON.stringify(doc, null, 2)}\n`);
  }
}
