/**
 * An app's package (the deployment pipeline's prepare and stage steps): its folder's files with a
 * SHA-256 checksum over them, packed by the CLI, and unpacked by the hub into a folder of its own
 * after every path and the checksum are checked. Hidden files and `node_modules` are not packed:
 * the hub gives each staged app the `crossbus` package it runs itself (a `node_modules/crossbus`
 * link), and an app's other dependencies must be bundled into its files.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { AppPackage, PackageFile } from '../../core/apps/deploy-topics.js';
import { entryProblem } from '../../core/apps/manifest.js';
import { createError } from '../../core/errors/index.js';

/** Limits of one package. */
export interface PackageLimits {
  /** @default 500 */
  readonly maxFiles?: number;
  /** Bytes of all files together, before base64. @default 700000 (a package travels in one request: the hub's 1 MiB frame) */
  readonly maxBytes?: number;
}
export const DEFAULT_PACKAGE_MAX_FILES = 500;
export const DEFAULT_PACKAGE_MAX_BYTES = 700_000;

const SKIPPED = new Set(['node_modules']);

/** SHA-256 (hex) over the files in path order: each path, a NUL, the SHA-256 of its bytes, a newline. */
export function packageChecksum(files: ReadonlyArray<{ path: string; bytes: Uint8Array }>): string {
  const outer = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    outer.update(`${f.path}\0${createHash('sha256').update(f.bytes).digest('hex')}\n`);
  return outer.digest('hex');
}

async function listFiles(root: string, dir: string, out: string[], limits: Required<PackageLimits>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await listFiles(root, full, out, limits);
    else if (entry.isFile()) {
      out.push(relative(root, full).split(sep).join('/'));
      if (out.length > limits.maxFiles)
        throw createError('CB_ERR_INVALID_OPTION', `the app folder holds more than ${limits.maxFiles} files (maxFiles)`, {
          details: { maxFiles: limits.maxFiles },
        });
    }
    // Links and special files are not packed: a package holds the app's own files only.
  }
}

function resolved(limits: PackageLimits): Required<PackageLimits> {
  return { maxFiles: limits.maxFiles ?? DEFAULT_PACKAGE_MAX_FILES, maxBytes: limits.maxBytes ?? DEFAULT_PACKAGE_MAX_BYTES };
}

/** Packs the folder `dir` (prepare). Throws CB_ERR_INVALID_OPTION past a limit. */
export async function packApp(dir: string, limits: PackageLimits = {}): Promise<AppPackage> {
  const l = resolved(limits);
  const root = resolve(dir);
  const paths: string[] = [];
  await listFiles(root, root, paths, l);
  paths.sort();
  let total = 0;
  const read: Array<{ path: string; bytes: Uint8Array }> = [];
  for (const path of paths) {
    const bytes = await readFile(join(root, path));
    total += bytes.length;
    if (total > l.maxBytes)
      throw createError('CB_ERR_INVALID_OPTION', `the app's files are more than ${l.maxBytes} bytes (maxBytes)`, {
        details: { maxBytes: l.maxBytes },
      });
    read.push({ path, bytes });
  }
  const files: PackageFile[] = read.map((f) => ({ path: f.path, data: Buffer.from(f.bytes).toString('base64') }));
  return { files, checksum: packageChecksum(read) };
}

const payloadInvalid = (message: string, details: Record<string, unknown> = {}) =>
  createError('CB_ERR_PAYLOAD_INVALID', message, { details });

/** A package as received: shape, paths and limits checked, bytes decoded, checksum verified. Throws CB_ERR_PAYLOAD_INVALID or CB_ERR_INTEGRITY. */
export function checkPackage(raw: unknown, limits: PackageLimits = {}): Array<{ path: string; bytes: Uint8Array }> {
  const l = resolved(limits);
  const pkg = raw as Partial<AppPackage> | null;
  if (pkg === null || typeof pkg !== 'object' || !Array.isArray(pkg.files) || typeof pkg.checksum !== 'string')
    throw payloadInvalid('a package is { files: [{ path, data }], checksum }');
  if (pkg.files.length === 0 || pkg.files.length > l.maxFiles)
    throw payloadInvalid(`a package holds 1 to ${l.maxFiles} files, got ${pkg.files.length}`, { maxFiles: l.maxFiles });
  const seen = new Set<string>();
  let total = 0;
  const files = pkg.files.map((f: PackageFile) => {
    if (f === null || typeof f !== 'object' || typeof f.path !== 'string' || typeof f.data !== 'string')
      throw payloadInvalid('each package file is { path: string, data: base64 string }');
    const problem =
      entryProblem(f.path) ??
      (f.path.includes('\\') || f.path.split('/').some((s) => s === '' || s === '.' || s.startsWith('.'))
        ? 'is not a plain relative path'
        : undefined);
    if (problem !== undefined) throw payloadInvalid(`package path ${JSON.stringify(f.path.slice(0, 200))} ${problem}`);
    if (seen.has(f.path)) throw payloadInvalid(`package path ${JSON.stringify(f.path)} appears twice`);
    seen.add(f.path);
    const bytes = Buffer.from(f.data, 'base64');
    total += bytes.length;
    if (total > l.maxBytes) throw payloadInvalid(`the package is more than ${l.maxBytes} bytes`, { maxBytes: l.maxBytes });
    return { path: f.path, bytes };
  });
  const actual = packageChecksum(files);
  if (actual !== pkg.checksum)
    throw createError('CB_ERR_INTEGRITY', 'the package does not match its checksum: it changed on the way or was packed wrong', {
      details: { expected: pkg.checksum, actual },
    });
  return files;
}

/** Writes checked files into `dir` (created; must not exist yet) and links `node_modules/crossbus` to `crossbusRoot`. */
export async function writePackage(
  dir: string,
  files: ReadonlyArray<{ path: string; bytes: Uint8Array }>,
  crossbusRoot: string,
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const f of files) {
    const target = join(dir, ...f.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.bytes, { flag: 'wx' });
  }
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await symlink(crossbusRoot, join(dir, 'node_modules', 'crossbus'), 'dir');
}

/** Recomputes a staged folder's checksum from disk (its packed files: the same walk as packApp). */
export async function stagedChecksum(dir: string): Promise<string> {
  const paths: string[] = [];
  await listFiles(dir, dir, paths, { maxFiles: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER });
  // listFiles keeps regular files only: the link to crossbus and any other link are left out.
  const files = [];
  for (const path of paths) files.push({ path, bytes: await readFile(join(dir, path)) });
  return packageChecksum(files);
}
