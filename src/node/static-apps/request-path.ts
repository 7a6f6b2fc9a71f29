/**
 * A request's path as the segments of a file under the app's root, or why it is refused. Checked
 * on the decoded segments, so no spelling reaches a file outside the root: `..` and `.` segments,
 * separators in a segment (`%2F`, `%5C`, a raw `\`), NUL, malformed escapes and empty segments
 * are refused, and so are hidden names (`.env`, `.git/`), which a build folder should not serve.
 * Symlinks that leave the root are the server's to refuse (it resolves the real path).
 */

/** The file's segments under the root; `index.html` added for a path ending in `/`. */
export type RequestPath = { readonly ok: true; readonly segments: readonly string[] } | { readonly ok: false; readonly status: 400 | 404 };

/** The file the root's `/` and any folder's `…/` stand for. */
export const INDEX_FILE = 'index.html';

const BAD_RAW = /[\\\0]/;
const BAD_SEGMENT = /[/\\\0]/;

export function requestPath(url: string): RequestPath {
  const end = url.search(/[?#]/);
  const raw = end === -1 ? url : url.slice(0, end);
  if (!raw.startsWith('/') || BAD_RAW.test(raw)) return { ok: false, status: 400 };
  const parts = raw.slice(1).split('/');
  const segments: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === '') {
      // Only the last segment may be empty: a folder's index.
      if (i !== parts.length - 1) return { ok: false, status: 400 };
      segments.push(INDEX_FILE);
      break;
    }
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { ok: false, status: 400 };
    }
    if (segment === '.' || segment === '..' || BAD_SEGMENT.test(segment)) return { ok: false, status: 400 };
    if (segment.startsWith('.')) return { ok: false, status: 404 };
    segments.push(segment);
  }
  return { ok: true, segments };
}
