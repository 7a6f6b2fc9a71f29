/**
 * The name of a conflicted copy: the document's version of a file that was changed in the folder
 * and in the document at once, written beside the folder's version. `notes.txt` becomes
 * `notes (conflicted copy from r-1f2e3d4c 2026-12-03 1204 UTC).txt`: who made the other change (a
 * replica id, or `remote` when it is not known) and when the copy was made, in UTC so that every
 * replica would name it alike, whatever its time zone. A name already taken (in the folder or the
 * document) gets a number: `… 1204 UTC 2).txt`, `3`, and so on.
 */

/** A file name's longest form on common file systems, in bytes of UTF-8. */
const MAX_NAME_BYTES = 255;

/** Who a copy is from: a replica id (letters, digits, `_`, `-`), anything else as `remote`. */
function fromLabel(replica: string | undefined): string {
  return replica !== undefined && /^[\w-]{1,64}$/.test(replica) ? replica : 'remote';
}

function stamp(time: number): string {
  const d = new Date(time);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}${two(d.getUTCMinutes())} UTC`;
}

/** The `n`th candidate name (1: without a number) of a copy of file name `name`. */
export function conflictedCopyName(name: string, replica: string | undefined, time: number, n = 1): string {
  const dot = name.lastIndexOf('.');
  // `.env` has no extension; `archive.tar.gz` keeps `.gz` only, as most file managers do.
  let stem = dot > 0 ? name.slice(0, dot) : name;
  let ext = dot > 0 ? name.slice(dot) : '';
  const tag = ` (conflicted copy from ${fromLabel(replica)} ${stamp(time)}${n > 1 ? ` ${n}` : ''})`;
  const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
  if (bytes(tag) + bytes(ext) > MAX_NAME_BYTES - 1) {
    stem += ext;
    ext = '';
  }
  // A long name is shortened (by whole characters) so that the copy can be created at all.
  const chars = [...stem];
  while (chars.length > 1 && bytes(chars.join('') + tag + ext) > MAX_NAME_BYTES) chars.pop();
  return chars.join('') + tag + ext;
}

/** The path of a copy of `path` (`/dir/notes.txt`) whose name `taken` does not refuse. */
export async function conflictedCopyPath(
  path: string,
  replica: string | undefined,
  time: number,
  taken: (candidate: string) => boolean | Promise<boolean>,
): Promise<string> {
  const cut = path.lastIndexOf('/');
  const dir = path.slice(0, cut + 1);
  const name = path.slice(cut + 1);
  for (let n = 1; ; n++) {
    const candidate = dir + conflictedCopyName(name, replica, time, n);
    if (!(await taken(candidate))) return candidate;
  }
}
