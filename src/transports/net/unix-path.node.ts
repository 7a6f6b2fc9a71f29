import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { ConfigError } from '../../core/errors/index.js';

/** Time a probe of an existing socket file gets to find a live hub behind it. */
const PROBE_MS = 1_000;

/**
 * Makes `path` free for a Unix-socket listener: nothing there is fine; a socket nobody answers
 * on (a crashed hub's) is removed; a socket a live process answers on is refused with
 * CB_ERR_ADDRESS_IN_USE; anything else (a file, a folder) is refused with CB_ERR_INVALID_OPTION
 * and left alone.
 */
export async function freeUnixPath(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError('CB_ERR_INVALID_OPTION', `cannot use ${path} for a Unix socket: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  }
  if (!stats.isSocket()) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${path} exists and is not a socket: refusing to replace it`, { details: { path } });
  }
  if (await answers(path)) {
    throw new ConfigError('CB_ERR_ADDRESS_IN_USE', `a live process listens on the Unix socket ${path}`, { details: { path } });
  }
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new ConfigError('CB_ERR_INVALID_OPTION', `cannot remove the stale Unix socket ${path}: ${(err as Error).message}`, {
        cause: err,
        details: { path },
      });
  }
}

/** Whether something accepts connections on the socket file (a refused or timed-out probe: no). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (live: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    // A listener whose backlog is full does not answer at once: a live one, not a stale file.
    const timer = setTimeout(() => done(true), PROBE_MS);
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}
