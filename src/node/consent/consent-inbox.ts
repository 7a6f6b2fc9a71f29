/**
 * How `crossbus consent grant|deny|revoke` reaches the running hub: the CLI appends one JSON line
 * per command to `<dataDir>/consent-inbox.jsonl` and sends the hub SIGUSR2; the hub drains the
 * inbox on that signal and at start. A file rather than a socket: it needs no listener, works when
 * the hub is down (commands wait for the next start), and is protected by ordinary file modes.
 */
import { appendFile, chmod, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConsentCommand, type ConsentCommand } from '../../core/security/consent-state.js';
import { ConfigError } from '../../core/errors/index.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, readIfExists, unlinkIfExists } from '../atomic-file.js';

/** Name of the inbox inside the hub's data directory. @default 'consent-inbox.jsonl' */
export const CONSENT_INBOX_FILE_NAME = 'consent-inbox.jsonl';
/** Where a drain moves the inbox while reading it; fixed, since one hub owns a data directory. */
const DRAINING_SUFFIX = '.draining';

/** Appends one command. Each is a single short write to an O_APPEND file, so concurrent CLIs do not interleave. */
export async function appendConsentCommand(dataDir: string, command: ConsentCommand): Promise<void> {
  const checked = parseConsentCommand(command);
  if (typeof checked === 'string') {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `consent command: ${checked}`, { details: { option: 'command' } });
  }
  await mkdir(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const file = join(dataDir, CONSENT_INBOX_FILE_NAME);
  await appendFile(file, `${JSON.stringify(checked)}\n`, { encoding: 'utf8', mode: PRIVATE_FILE_MODE, flag: 'a' });
  await chmod(file, PRIVATE_FILE_MODE).catch(() => {}); // mode applies on creation only; tighten a pre-existing file
}

/**
 * Takes every queued command, oldest first, leaving the inbox empty. The inbox is renamed
 * before reading, so a command appended meanwhile lands in a fresh inbox for the next drain
 * instead of being lost. A file left by a drain that crashed midway is taken first (its commands
 * are older); replaying one is harmless, as deciding an answered request does nothing.
 * Lines that are not valid commands are skipped and passed to `onInvalid`.
 */
export async function drainConsentInbox(
  dataDir: string,
  onInvalid: (line: string, reason: string) => void = () => {},
): Promise<ConsentCommand[]> {
  const inbox = join(dataDir, CONSENT_INBOX_FILE_NAME);
  const taken = inbox + DRAINING_SUFFIX;
  const texts: string[] = [];
  const leftover = await readIfExists(taken);
  if (leftover !== undefined) {
    texts.push(leftover);
    await unlinkIfExists(taken);
  }
  try {
    await rename(inbox, taken);
    texts.push((await readIfExists(taken)) ?? '');
    await unlinkIfExists(taken);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const commands: ConsentCommand[] = [];
  for (const line of texts.join('\n').split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      onInvalid(line, 'not valid JSON');
      continue;
    }
    const c = parseConsentCommand(parsed);
    if (typeof c === 'string') onInvalid(line, c);
    else commands.push(c);
  }
  return commands;
}
