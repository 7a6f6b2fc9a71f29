/**
 * The few file operations the segment log needs, behind an interface so tests can inject faults
 * (ENOSPC on a write, a slow or counted fsync) without a real full disk.
 */
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface StorageFile {
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Positional write; may write fewer bytes than asked (the caller loops). */
  write(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** fdatasync(2): the data (and the size) on stable storage. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface StorageFs {
  /** Creates the directory and its parents. */
  mkdir(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  /** Opens read-write, creating the file when `create` is true. */
  open(path: string, create: boolean): Promise<StorageFile>;
  unlink(path: string): Promise<void>;
  /** fsync of a directory, so a created or deleted file name survives a power loss. */
  syncDir(dir: string): Promise<void>;
  /** The whole file, or undefined if it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** Replaces `path` with `data` atomically and durably (temp file, fsync, rename, directory fsync). */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
}

/** The temporary file `writeFileAtomic` writes before renaming it over `path` (a crash can leave it). */
export function atomicTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

class NodeFile implements StorageFile {
  constructor(private readonly fh: FileHandle) {}
  async read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(buf, offset, length, position)).bytesRead;
  }
  async write(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.write(buf, offset, length, position)).bytesWritten;
  }
  datasync(): Promise<void> {
    return this.fh.datasync();
  }
  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }
  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The real file system (node:fs/promises). */
export const nodeStorageFs: StorageFs = Object.freeze({
  async mkdir(dir: string) {
    await mkdir(dir, { recursive: true });
  },
  readdir: (dir: string) => readdir(dir),
  // 'r+' never creates; 'a+' would ignore positions on Linux, so create with 'wx' first.
  async open(path: string, create: boolean) {
    if (create) await (await open(path, 'wx')).close();
    return new NodeFile(await open(path, 'r+'));
  },
  unlink: (path: string) => unlink(path),
  syncDir,
  async readFile(path: string) {
    try {
      return new Uint8Array(await readFile(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async writeFileAtomic(path: string, data: Uint8Array) {
    const tmp = atomicTempPath(path);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await syncDir(dirname(path));
  },
});
