/**
 * The hash of a change: SHA-256 (base64url) of the canonical JSON of the paths it touched and
 * what they hold after it, `[[path, value] | [path], …]` (`[path]`: nothing there), paths in
 * the order the change first touched them. Its author computes it on its view; a replica that
 * applied the change cleanly, with nothing concurrent, must find the same.
 */
import type { Awaitable, CryptoProvider } from '../security/crypto.js';
import { encodeUtf8 } from '../protocol/utf8.js';
import { sha256Id } from './chunking.js';
import { getAt } from './doc-writer.js';
import { canonicalJson } from './json-value.js';
import { parsePointer } from './pointer.js';

/** The paths of `effective`, each once, in first-touched order. */
export function touchedPaths(effective: readonly { readonly path: string }[]): string[] {
  const seen = new Set<string>();
  for (const e of effective) seen.add(e.path);
  return [...seen];
}

/** The canonical text a change hash covers. */
export function touchedText(doc: unknown, paths: readonly string[]): string {
  let s = '[';
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i] as string;
    const value = getAt(doc, parsePointer(path));
    s += `${i === 0 ? '' : ','}[${JSON.stringify(path)}${value === undefined ? '' : `,${canonicalJson(value)}`}]`;
  }
  return `${s}]`;
}

export function touchedHash(crypto: Pick<CryptoProvider, 'sha256'>, doc: unknown, paths: readonly string[]): Awaitable<string> {
  return sha256Id(crypto, encodeUtf8(touchedText(doc, paths)));
}
