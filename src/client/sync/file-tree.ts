/**
 * A file tree document as files: paths `/dir/file.txt` (plain names, `/` between them) mapped to
 * the JSON pointers the core's ops carry (`~` and `/` escaped), the tree's files listed and read,
 * and a new tree with one file written or deleted (the containers on its path copied, the rest
 * shared, so that `diffJson` walks only what changed). Runtime-neutral.
 */
import { ConfigError } from '../../core/errors/index.js';
import { fromBase64, toBase64 } from '../../core/security/bytes.js';
import { formatPointer, parsePointer, type FileContent } from '../../core/sync/index.js';

type Dir = { [name: string]: unknown };

const isDir = (v: unknown): v is Dir => typeof v === 'object' && v !== null && !Array.isArray(v) && !isFile(v);

/** A file: `{ text }` or `{ base64 }`, nothing else. */
export function isFile(v: unknown): v is FileContent {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return (
    keys.length === 1 && (typeof (v as { text?: unknown }).text === 'string' || typeof (v as { base64?: unknown }).base64 === 'string')
  );
}

/** The names of file path `path`; CB_ERR_INVALID_OPTION unless it is `/`-separated names (none empty, `.` or `..`). */
export function fileNames(path: string): string[] {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length === 1) throw badPath(path);
  const names = path.slice(1).split('/');
  for (const n of names) if (n === '' || n === '.' || n === '..') throw badPath(path);
  return names;
}

function badPath(path: unknown): ConfigError {
  return new ConfigError(
    'CB_ERR_INVALID_OPTION',
    `a file path is "/" and names separated by "/", got ${JSON.stringify(String(path).slice(0, 200))}`,
    {
      details: { option: 'path' },
    },
  );
}

/** The op path (JSON pointer) of a file path. */
export const pointerOf = (path: string): string => formatPointer(fileNames(path));

/** The file path of an op path. */
export const filePathOf = (pointer: string): string => `/${parsePointer(pointer).join('/')}`;

/** Every file of the tree, sorted. */
export function filePaths(tree: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown, prefix: string): void => {
    if (!isDir(node)) return;
    for (const name of Object.keys(node)) {
      const child = node[name];
      if (isFile(child)) out.push(`${prefix}/${name}`);
      else walk(child, `${prefix}/${name}`);
    }
  };
  walk(tree, '');
  return out.sort();
}

/** The node at `names`, or undefined. */
function nodeAt(tree: unknown, names: readonly string[]): unknown {
  let node = tree;
  for (const n of names) {
    if (!isDir(node) || !Object.hasOwn(node, n)) return undefined;
    node = node[n];
  }
  return node;
}

/** A file's content: text as a string, binary as bytes; undefined for no file (or a directory). */
export function readFileAt(tree: unknown, path: string): string | Uint8Array | undefined {
  const node = nodeAt(tree, fileNames(path));
  if (!isFile(node)) return undefined;
  return 'text' in node ? node.text : (fromBase64(node.base64) ?? new Uint8Array(0));
}

/** The file a content is stored as. */
export function fileContentOf(content: string | Uint8Array): FileContent {
  if (typeof content === 'string') return { text: content };
  if (content instanceof Uint8Array) return { base64: toBase64(content) };
  throw new ConfigError('CB_ERR_INVALID_OPTION', 'a file holds a string (text) or a Uint8Array (bytes)', {
    details: { option: 'content' },
  });
}

/**
 * The tree with `file` at `path` (undefined: deleted, with directories it leaves empty), the
 * directories on the way created; `tree` itself is not changed. Throws CB_ERR_INVALID_OPTION when a
 * file stands where the path needs a directory.
 */
export function withFileAt(tree: unknown, path: string, file: FileContent | undefined): unknown {
  const names = fileNames(path);
  const put = (node: unknown, i: number): unknown => {
    const dir: Dir = isDir(node) ? { ...node } : {};
    if (node !== undefined && !isDir(node)) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `${path}: /${names.slice(0, i).join('/')} is a file, not a directory`, {
        details: { option: 'path' },
      });
    }
    const name = names[i] as string;
    if (i === names.length - 1) {
      if (file === undefined) delete dir[name];
      else dir[name] = file;
    } else {
      const child = put(Object.hasOwn(dir, name) ? dir[name] : undefined, i + 1);
      if (child === undefined) delete dir[name];
      else dir[name] = child;
    }
    // A directory left empty by a delete goes too (the root stays).
    return i > 0 && file === undefined && Object.keys(dir).length === 0 ? undefined : dir;
  };
  if (file === undefined && !isFile(nodeAt(tree, names))) return tree;
  return put(tree ?? {}, 0);
}
