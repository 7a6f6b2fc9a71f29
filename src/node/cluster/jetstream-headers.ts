/**
 * The NATS headers of an append, encoded once. nats.js's own MsgHdrs canonicalises the key and
 * lists every key again on each `append` (two arrays and a few strings per header), and builds
 * the header block as a string at publish: with four headers per durable publish that was a
 * tenth of the storage layer's CPU per append, most of it garbage (profiled with 1,000 appends in
 * flight). crossbus writes only ASCII names and one-line ASCII values (jetstream-codec.ts), so the
 * block is one string, encoded once.
 *
 * nats.js's publish asks its `headers` for `encode()` alone (a method its MsgHdrs has but does not
 * declare); the rest of MsgHdrs is here for whoever else reads the object.
 */
import { ErrorCode, Match, type MsgHdrs, NatsError } from 'nats';
import type { HeaderEntries } from './jetstream-codec.js';

const encoder = new TextEncoder();
const LINE_BREAK = /[\r\n]/;

export class EncodedHeaders implements MsgHdrs {
  readonly #entries: HeaderEntries;
  #bytes: Uint8Array | undefined;
  readonly code = 0;
  readonly description = '';
  readonly hasError = false;
  readonly status = '';

  /** `entries`: names and values as nats.js would send them (ASCII, no line breaks). */
  constructor(entries: HeaderEntries) {
    this.#entries = entries;
  }

  /** The header block as NATS reads it (`NATS/1.0\r\n`, `name: value\r\n` each, `\r\n`). */
  encode(): Uint8Array {
    if (this.#bytes === undefined) {
      let s = 'NATS/1.0\r\n';
      for (const [k, v] of this.#entries) s += `${k}: ${v}\r\n`;
      this.#bytes = encoder.encode(`${s}\r\n`);
    }
    return this.#bytes;
  }

  get(k: string, match: Match = Match.Exact): string {
    return this.#entries.find(([n]) => same(n, k, match))?.[1] ?? '';
  }

  last(k: string, match: Match = Match.Exact): string {
    const all = this.values(k, match);
    return all[all.length - 1] ?? '';
  }

  has(k: string, match: Match = Match.Exact): boolean {
    return this.#entries.some(([n]) => same(n, k, match));
  }

  keys(): string[] {
    return [...new Set(this.#entries.map(([n]) => n))];
  }

  values(k: string, match: Match = Match.Exact): string[] {
    return this.#entries.filter(([n]) => same(n, k, match)).map(([, v]) => v);
  }

  append(k: string, v: string): void {
    if (LINE_BREAK.test(v) || LINE_BREAK.test(k))
      throw new NatsError('invalid header value - \\r and \\n are not allowed.', ErrorCode.BadHeader);
    this.#entries.push([k, v.trim()]);
    this.#bytes = undefined;
  }

  set(k: string, v: string, match: Match = Match.Exact): void {
    this.delete(k, match);
    this.append(k, v);
  }

  delete(k: string, match: Match = Match.Exact): void {
    for (let i = this.#entries.length - 1; i >= 0; i--)
      if (same((this.#entries[i] as [string, string])[0], k, match)) this.#entries.splice(i, 1);
    this.#bytes = undefined;
  }

  *[Symbol.iterator](): Iterator<[string, string[]]> {
    for (const k of this.keys()) yield [k, this.values(k)];
  }
}

function same(name: string, k: string, match: Match): boolean {
  return match === Match.Exact ? name === k : name.toLowerCase() === k.toLowerCase();
}
