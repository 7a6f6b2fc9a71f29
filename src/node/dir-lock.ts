/**
 * Exclusive locks on files of a hub's data folder: one hub per data folder (two hubs on one audit
 * chain or one stream log would corrupt both), and one writer at a time for the config file.
 *
 * Node has no portable `flock`, so a lock is a file created atomically with `link` (it appears with
 * its whole content or not at all) naming its holder: pid, host, and on Linux the process's start
 * time. A lock whose holder is gone (kill -9, power loss) is stale and taken over at once, so a
 * crash never blocks the next start; the start time keeps a reused pid (a container restarting its
 * hub as pid 1 again) from looking like the old holder. A holder on another host cannot be checked
 * and always counts as alive. Takeover of a stale lock happens under a short-lived guard file, so two
 * processes that find the same stale lock cannot both win.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { hostname } from 'node:os';
import { ConfigError } from '../core/errors/index.js';
import { PRIVATE_DIR_MODE, readIfExists, unlinkIfExists, writePrivateTemp } from './atomic-file.js';
import { dirname } from 'node:path';
import { DEFAULT_LOCK_POLL_MS, DEFAULT_STALE_GUARD_MS } from './defaults.js';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Linux: the process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  started?: string;
  /** Tells this acquisition apart from any other by the same process. */
  token: string;
  /** What holds it, for the error message: 'hub', 'config writer'. */
  purpose: string;
  acquiredAt: string;
}

export interface FileLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock if it is still this one. Idempotent. */
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** Who takes it, named in the error another process gets. @default 'hub' */
  purpose?: string;
  /** How long to wait for a live holder to let go; 0 fails at once. @default 0 */
  waitMs?: number;
  /** Called once when the lock is held by another and this call starts waiting for it. @default none */
  onWait?: (holder: LockHolder) => void;
}

export async function acquireFileLock(file: string, options: AcquireLockOptions = {}): Promise<FileLock> {
  const { purpose = 'hub', waitMs = 0, onWait } = options;
  if (!Number.isSafeInteger(waitMs) || waitMs < 0) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `waitMs must be a non-negative integer, got ${String(waitMs)}`);
  }
  await mkdir(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  const started = await processStart(process.pid);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    ...(started !== undefined ? { started } : {}),
    token: randomBytes(12).toString('hex'),
    purpose,
    acquiredAt: new Date().toISOString(),
  };
  const deadline = Date.now() + waitMs;
  let waiting = false;
  for (;;) {
    if (await tryCreate(file, me)) return lockHandle(file, me);
    const holder = await readHolder(file);
    if (holder === 'gone') continue; // released between our attempt and the read
    if (holder === 'torn' || !(await isAlive(holder))) {
      await removeStale(file, holder);
      continue;
    }
    if (Date.now() >= deadline) throw lockedError(file, holder);
    if (!waiting) onWait?.(holder);
    waiting = true;
    await delay(DEFAULT_LOCK_POLL_MS);
  }
}

function lockHandle(file: string, holder: LockHolder): FileLock {
  let released: Promise<void> | undefined;
  return {
    file,
    holder,
    release: () => {
      released ??= (async () => {
        const now = await readHolder(file);
        if (typeof now === 'object' && now.token === holder.token) await unlinkIfExists(file);
      })();
      return released;
    },
  };
}

/** Creates `file` with the holder's record, atomically; false if it exists. */
async function tryCreate(file: string, holder: LockHolder): Promise<boolean> {
  const tmp = await writePrivateTemp(file, `${JSON.stringify(holder)}\n`);
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * 'gone' when there is no lock; 'torn' when its content is not a holder record: `link` never
 * shows a partial file, so this is damage (a disk that lost it), not a writer mid-way.
 */
async function readHolder(file: string): Promise<LockHolder | 'gone' | 'torn'> {
  const text = await readIfExists(file);
  if (text === undefined) return 'gone';
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string') return h as LockHolder;
  } catch {
    // falls through
  }
  return 'torn';
}

async function isAlive(h: LockHolder): Promise<boolean> {
  if (h.host !== hostname()) return true; // cannot be checked from here
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  if (h.started === undefined) return true;
  const started = await processStart(h.pid);
  return started === undefined || started === h.started;
}

/**
 * Removes a stale lock under a guard: without it, one process could remove the fresh lock another
 * just created after removing the same stale one. A guard is held for a few milliseconds; one left by
 * a process that died in that window is removed once it is old.
 */
async function removeStale(file: string, seen: LockHolder | 'torn'): Promise<void> {
  const guard = `${file}.takeover`;
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    token: randomBytes(12).toString('hex'),
    purpose: 'takeover',
    acquiredAt: '',
  };
  if (!(await tryCreate(guard, me))) {
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > DEFAULT_STALE_GUARD_MS) await unlinkIfExists(guard);
    else await delay(DEFAULT_LOCK_POLL_MS);
    return;
  }
  try {
    const now = await readHolder(file);
    const same = now === 'torn' ? seen === 'torn' : typeof now === 'object' && typeof seen === 'object' && now.token === seen.token;
    if (same) await unlinkIfExists(file);
  } finally {
    await unlinkIfExists(guard);
  }
}

/** Linux: the start time of a process, which a reused pid does not share; undefined elsewhere. */
async function processStart(pid: number): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function lockedError(file: string, h: LockHolder): ConfigError {
  const where = h.host === hostname() ? `pid ${h.pid}` : `pid ${h.pid} on host ${h.host}`;
  const folder = dirname(file);
  return new ConfigError('CB_ERR_DATA_DIR_LOCKED', `data folder ${folder} is in use by a ${h.purpose} (${where}); lock file ${file}`, {
    details: { folder, file, pid: h.pid, host: h.host, purpose: h.purpose },
  });
}
