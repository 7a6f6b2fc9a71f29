/** Reaches the running hub of a data directory through its pid file (SIGHUP reload, SIGUSR2 consent). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HUB_PID_FILE_NAME } from '../../node/paths.js';

/** Returns the pid signalled, or undefined when no hub could be reached (the command stays queued). */
export async function signalHub(
  dataDir: string,
  signal: NodeJS.Signals,
  kill?: (pid: number, signal: NodeJS.Signals) => void,
): Promise<number | undefined> {
  let pid: unknown;
  try {
    pid = (JSON.parse(await readFile(join(dataDir, HUB_PID_FILE_NAME), 'utf8')) as { pid?: unknown }).pid;
  } catch {
    return undefined;
  }
  // 0, -1 and negative pids address process groups: never signal those.
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 1) return undefined;
  if (!(await looksLikeNode(pid))) return undefined;
  try {
    (kill ?? ((p, sig) => process.kill(p, sig)))(pid, signal);
    return pid;
  } catch {
    return undefined; // gone (ESRCH), not ours (EPERM), or no such signal on this platform
  }
}

/**
 * A hub that crashed leaves a stale pid file, and the pid may now be another program, for which
 * a signal would be fatal. Where /proc exists, only Node processes are signalled.
 */
async function looksLikeNode(pid: number): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /node|crossbus|tsx/i.test(cmdline);
  } catch {
    return false;
  }
}
