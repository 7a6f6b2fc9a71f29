/**
 * UTF-8 helpers with an ASCII fast path: topics and header names are almost always ASCII, and
 * TextEncoder/TextDecoder calls cost more than a short loop for strings of a few dozen bytes.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Up to this many characters, ASCII is copied by a loop: cheaper than a call into TextEncoder. */
const ASCII_LOOP_MAX = 512;

/** Writes `s` at `offset`; returns bytes written. The caller has ensured room (utf8Length). */
export function writeUtf8(buf: Uint8Array, offset: number, s: string): number {
  const n = s.length;
  let i = 0;
  if (n <= ASCII_LOOP_MAX) {
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[offset + i] = c;
    }
    if (i === n) return n;
  }
  // The ASCII prefix is written; the encoder takes the rest.
  return i + encoder.encodeInto(i === 0 ? s : s.slice(i), buf.subarray(offset + i)).written;
}

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes strictly: invalid UTF-8 throws a TypeError (callers turn it into a typed error). */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n < 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if ((buf[i] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      // String.fromCharCode over a subarray is the fastest ASCII path for short strings.
      return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
    }
  }
  return decoder.decode(buf.subarray(start, end));
}

export function decodeUtf8(buf: Uint8Array): string {
  return readUtf8(buf, 0, buf.length);
}
