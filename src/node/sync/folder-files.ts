/**
 * A mirrored folder's files as a file tree document sees them: paths `/dir/file.txt` (always `/`,
 * whatever the platform), contents as text when they are UTF-8 and as bytes otherwise, and what a
 * file looked like when last seen (size, mtime, SHA-256), from which a change is detected.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Names the mirror never syncs: its own temporary files and store. */
export const MIRROR_PRIVATE_PREFIX = '.crossbus';

/** How a changed file is noticed: `timestamp` by size and mtime, `hash` by SHA-256, `seq` every time the folder says so. */
export type FolderDetect = 'seq' | 'timestamp' | 'hash';

/** What a file was when the mirror last read or wrote it. */
export interface FileSeen {
  size: number;
  mtimeMs: number;
  /** SHA-256, hex. */
  hash: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The document path of a file under `root`. */
export function docPath(root: string, file: string): string {
  return `/${relative(root, file).split(sep).join('/')}`;
}

/** The file of document path `path` under `root`, or undefined when the path would leave the folder or is the mirror's own. */
export function fileOf(root: string, path: string): string | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '..' || p === '.' || p.includes('\\') || p.startsWith(MIRROR_PRIVATE_PREFIX))) {
    return undefined;
  }
  return join(root, ...parts);
}

/** Whether a path inside the folder (relative, any separator) belongs to the mirror itself. */
export function isPrivate(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((p) => p.startsWith(MIRROR_PRIVATE_PREFIX));
}

/** Every regular file under `root` (symbolic links and the mirror's own files left out), as document paths. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(MIRROR_PRIVATE_PREFIX)) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(docPath(root, full));
    }
  };
  await walk(root);
  return out.sort();
}

/** UTF-8 text when the bytes are valid UTF-8 without NUL, else the bytes. */
export function contentOf(bytes: Uint8Array): string | Uint8Array {
  if (bytes.includes(0)) return bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
}

export function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content;
}

/** The file's size and mtime, or undefined when it is gone (or not a regular file). */
export async function statFile(file: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The file's bytes and what they look like, or undefined when it is gone. */
export async function readSeen(file: string): Promise<{ bytes: Uint8Array; seen: FileSeen } | undefined> {
  try {
    const [bytes, s] = await Promise.all([readFile(file), stat(file)]);
    return { bytes, seen: { size: bytes.length, mtimeMs: s.mtimeMs, hash: sha256Hex(bytes) } };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
}

/**
 * Writes `bytes` to `file` through a temporary file and a rename: a reader sees the old file or the
 * new one. With `expect`, only over the file as it was last read (its size and mtime; null: no file
 * there): when it changed meanwhile (someone is editing it), nothing is replaced and the answer is
 * undefined, so the caller reads it again rather than overwrite an edit unseen.
 */
export async function writeAtomically(file: string, bytes: Uint8Array, expect: FileSeen | null): Promise<FileSeen | undefined>;
export async function writeAtomically(file: string, bytes: Uint8Array): Promise<FileSeen>;
export async function writeAtomically(file: string, bytes: Uint8Array, expect?: FileSeen | null): Promise<FileSeen | undefined> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `${MIRROR_PRIVATE_PREFIX}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    if (expect !== undefined && !(await unchangedSince(file, expect))) {
      await unlink(tmp);
      return undefined;
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const s = await stat(file);
  return { size: bytes.length, mtimeMs: s.mtimeMs, hash: sha256Hex(bytes) };
}

/** Whether `file` is as last read (same size and mtime; null: still not there). */
export async function unchangedSince(file: string, expect: FileSeen | null): Promise<boolean> {
  const now = await statFile(file);
  if (expect === null || now === undefined) return expect === null && now === undefined;
  return now.size === expect.size && now.mtimeMs === expect.mtimeMs;
}

/** Removes `file`; true when it was there. */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
