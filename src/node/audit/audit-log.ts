/**
 * The hub's tamper-evident audit log: append-only JSON lines, each entry hash-chained to the one
 * before it (see verify.ts). Writes are synchronous so an entry is on disk before the action it
 * records completes; audit entries are rare, so the cost does not matter. A failing disk never
 * stops the hub: failures are reported loudly and the next record retries.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout, clearTimeout } from 'node:timers';
import type { AuditActor, AuditEvent, AuditSink } from '../../core/security/audit.js';
import { createError } from '../../core/errors/index.js';
import { silentLogger, type Logger } from '../../core/util/logger.js';

export const GENESIS_HASH = '0'.repeat(64);
export const REDACTED = '[redacted]';
/** Key names whose values never reach the file, at any depth of actor/details. */
export const REDACT_KEY = /secret|password|passphrase|token|proof|binder|private/i;

export interface AuditEntry {
  seq: number;
  time: string;
  actor: AuditActor;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  details?: Record<string, unknown>;
  prev: string;
  hash: string;
}
export type UnhashedEntry = Omit<AuditEntry, 'hash'>;

/** The hashed form: JSON.stringify of the entry built in the fixed key order, without `hash`. */
export function canonicalJson(e: UnhashedEntry): string {
  const o: Record<string, unknown> = {
    seq: e.seq,
    time: e.time,
    actor: e.actor,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    reason: e.reason,
  };
  if (e.details !== undefined) o.details = e.details;
  o.prev = e.prev;
  return JSON.stringify(o);
}

export function entryHash(e: UnhashedEntry): string {
  return createHash('sha256').update(canonicalJson(e), 'utf8').digest('hex');
}

/** The exact line (without newline) the writer produces for an entry; verify compares bytes to it. */
export function entryLine(e: AuditEntry): string {
  return `${canonicalJson(e).slice(0, -1)},"hash":"${e.hash}"}`;
}

const KEYS = ['seq', 'time', 'actor', 'action', 'target', 'outcome', 'reason', 'prev', 'hash'];
const KEYS_WITH_DETAILS = ['seq', 'time', 'actor', 'action', 'target', 'outcome', 'reason', 'details', 'prev', 'hash'];
const ACTOR_KEYS = ['app', 'origin', 'address', 'connectionId'] as const;
const HEX64 = /^[0-9a-f]{64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

/** Parses and shape-checks one line. Says nothing about the chain: that is verify's job. */
export function parseAuditEntry(text: string): { ok: true; entry: AuditEntry } | { ok: false; reason: string; seq?: number } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'line is not valid JSON (partial or corrupted)' };
  }
  if (!isObject(v)) return { ok: false, reason: 'line is not a JSON object' };
  const seq = Number.isSafeInteger(v.seq) ? (v.seq as number) : undefined;
  const bad = (reason: string) => (seq !== undefined ? { ok: false as const, reason, seq } : { ok: false as const, reason });
  const keys = Object.keys(v).join(',');
  if (keys !== KEYS.join(',') && keys !== KEYS_WITH_DETAILS.join(',')) return bad(`unexpected keys or key order: ${keys}`);
  const a = v.actor;
  if (seq === undefined || seq < 1) return bad('seq is not a positive integer');
  if (typeof v.time !== 'string' || Number.isNaN(Date.parse(v.time))) return bad('time is not an ISO 8601 string');
  if (!isObject(a) || Object.entries(a).some(([k, x]) => !(ACTOR_KEYS as readonly string[]).includes(k) || typeof x !== 'string'))
    return bad('actor is malformed');
  if (typeof v.action !== 'string' || typeof v.outcome !== 'string') return bad('action or outcome is not a string');
  if (!strOrNull(v.target) || !strOrNull(v.reason)) return bad('target or reason is neither a string nor null');
  if (v.details !== undefined && !isObject(v.details)) return bad('details is not an object');
  if (typeof v.prev !== 'string' || !HEX64.test(v.prev) || typeof v.hash !== 'string' || !HEX64.test(v.hash))
    return bad('prev or hash is not a hex sha256');
  return { ok: true, entry: v as unknown as AuditEntry };
}

/**
 * Yields a file's lines from the last to the first, reading 64 KiB chunks backwards so opening
 * (and `audit tail`) costs the tail, not the whole file. The first value is what follows the last
 * newline: empty when the file ends cleanly, a partial line after a crash.
 */
export async function* linesFromEnd(handle: FileHandle, size: number, chunkSize = 64 * 1024): AsyncGenerator<Buffer> {
  let pos = size;
  let carry = Buffer.alloc(0);
  while (pos > 0) {
    const len = Math.min(chunkSize, pos);
    pos -= len;
    const chunk = Buffer.alloc(len);
    for (let got = 0; got < len; ) {
      const { bytesRead } = await handle.read(chunk, got, len - got, pos + got);
      if (bytesRead === 0) throw new Error('file shrank while being read');
      got += bytesRead;
    }
    const buf = Buffer.concat([chunk, carry]);
    let end = buf.length;
    // Guard end > 0: lastIndexOf with a negative offset would search from the buffer's end.
    for (let i = end > 0 ? buf.lastIndexOf(0x0a, end - 1) : -1; i >= 0; i = end > 0 ? buf.lastIndexOf(0x0a, end - 1) : -1) {
      yield buf.subarray(i + 1, end);
      end = i;
    }
    carry = buf.subarray(0, end);
  }
  yield carry;
}

export interface AuditLogOptions {
  file: string;
  logger?: Logger;
  /** Called once per distinct write failure (a CB_ERR_AUDIT error); must not be relied on to throw. */
  onError?: (err: Error) => void;
  now?: () => number;
  /** Actions whose floods are merged into one entry per window. Default ['rate-limit']. */
  coalesceActions?: string[];
  coalesceWindowMs?: number;
}

type Pending = Omit<UnhashedEntry, 'seq' | 'time' | 'prev'>;
interface Window {
  start: number;
  count: number;
  first?: Pending;
  since?: number;
  timer: ReturnType<typeof setTimeout>;
}
/** Bounds the coalescing map: app names in failed auths are attacker-chosen. Past it, events are written as they come. */
const MAX_WINDOWS = 10_000;

export class AuditLog implements AuditSink {
  readonly file: string;
  #fd: number | null;
  #seq: number;
  #lastHash: string;
  /** The file ends in a partial line (crash, failed write): the next write starts a new line. */
  #needNewline: boolean;
  #failures = 0;
  /** Entries lost since the last successful write; recorded as a gap entry on recovery. */
  #lost = 0;
  #reported: string | null = null;
  #closed = false;
  readonly #logger: Logger;
  readonly #onError: ((err: Error) => void) | undefined;
  readonly #now: () => number;
  readonly #coalesce: Set<string>;
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();

  private constructor(o: AuditLogOptions, fd: number, seq: number, lastHash: string, needNewline: boolean) {
    this.file = o.file;
    this.#fd = fd;
    this.#seq = seq;
    this.#lastHash = lastHash;
    this.#needNewline = needNewline;
    this.#logger = o.logger ?? silentLogger;
    this.#onError = o.onError;
    this.#now = o.now ?? Date.now;
    this.#coalesce = new Set(o.coalesceActions ?? ['rate-limit']);
    this.#windowMs = o.coalesceWindowMs ?? 1000;
  }

  /** Opens (creating it and its directory if needed) and finds where the chain ends. Throws CB_ERR_AUDIT if the file cannot be opened or read: a hub should not start without its audit log. */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const logger = options.logger ?? silentLogger;
    let fd: number;
    try {
      fd = openLogFd(options.file);
      const st = fstatSync(fd);
      // An existing log may hold addresses and app names: tighten it like a new one.
      if (st.isFile() && (st.mode & 0o077) !== 0) {
        fchmodSync(fd, 0o600);
        logger.warn({ file: options.file }, 'audit log was readable by others; set its mode to 0600');
      }
      // Only a regular file has a tail to continue (e.g. /dev/full does not, and reads forever).
      const tail = st.isFile() ? await readTail(options.file, st.size) : { seq: 0, hash: GENESIS_HASH, partial: false, skipped: 0 };
      if (tail.skipped > 0) {
        logger.warn(
          {
            file: options.file,
            skipped: tail.skipped,
          },
          'audit log ends in a partial or invalid line (crash?); continuing on a new line, verify will report it',
        );
      }
      return new AuditLog(options, fd, tail.seq, tail.hash, tail.partial);
    } catch (cause) {
      throw createError('CB_ERR_AUDIT', `cannot open audit log ${options.file}`, {
        cause,
        details: { file: options.file, code: errCode(cause) },
      });
    }
  }

  get lastSeq(): number {
    return this.#seq;
  }
  get lastHash(): string {
    return this.#lastHash;
  }
  /** Failed write attempts so far (each reported once per distinct cause). */
  get failures(): number {
    return this.#failures;
  }

  record(event: AuditEvent): void {
    try {
      if (this.#closed) return this.#fail('CLOSED', new Error('record() after close()'));
      const p = normalize(event);
      if (this.#coalesce.has(p.action) && this.#merge(p)) return;
      this.#write(p);
    } catch (err) {
      // Never throw into the hub; anything unexpected is still a (reported) audit failure.
      this.#fail('INTERNAL', err);
    }
  }

  /** Writes the summaries of all open coalescing windows now. */
  flush(): void {
    for (const [key, w] of [...this.#windows]) this.#endWindow(key, w);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#closeFd();
  }

  /** Returns true when the event was absorbed into an open window. */
  #merge(p: Pending): boolean {
    const key = JSON.stringify([p.actor.app ?? null, p.action, p.outcome, p.reason]);
    const now = this.#now();
    let w = this.#windows.get(key);
    // With an injected clock the timer may lag: end an expired window here too.
    if (w && now - w.start >= this.#windowMs) {
      this.#endWindow(key, w);
      w = undefined;
    }
    if (w) {
      w.count++;
      if (w.first === undefined) {
        w.first = p;
        w.since = now;
      }
      return true;
    }
    if (this.#windows.size >= MAX_WINDOWS) return false;
    const timer = setTimeout(() => {
      const cur = this.#windows.get(key);
      if (cur) this.#endWindow(key, cur);
    }, this.#windowMs);
    timer.unref();
    this.#windows.set(key, { start: now, count: 0, timer });
    return false;
  }

  #endWindow(key: string, w: Window): void {
    clearTimeout(w.timer);
    this.#windows.delete(key);
    if (w.count === 0 || w.first === undefined) return;
    this.#write({ ...w.first, details: { ...w.first.details, count: w.count, since: new Date(w.since ?? this.#now()).toISOString() } });
  }

  #write(p: Pending): void {
    if (this.#lost > 0) {
      // Recovering: first say in the chain itself that entries are missing.
      const gap: Pending = {
        actor: {},
        action: 'audit',
        target: null,
        outcome: 'failure',
        reason: 'CB_ERR_AUDIT',
        details: { lost: this.#lost, cause: this.#reported },
      };
      if (!this.#writeEntry(gap)) {
        this.#lost++;
        return;
      }
      this.#logger.warn({ file: this.file, lost: this.#lost }, 'audit log writing again');
      this.#lost = 0;
      this.#reported = null;
    }
    if (!this.#writeEntry(p)) this.#lost++;
    else this.#reported = null;
  }

  #writeEntry(p: Pending): boolean {
    let written = 0;
    try {
      if (this.#fd !== null && fstatSync(this.#fd).nlink === 0) {
        // Someone removed the file: writes would vanish into the unlinked inode. Start a new one.
        this.#fail('REMOVED', new Error('audit log file was removed while open'));
        this.#closeFd();
      }
      this.#fd ??= openLogFd(this.file);
      const u: UnhashedEntry = {
        seq: this.#seq + 1,
        time: new Date(this.#now()).toISOString(),
        actor: p.actor,
        action: p.action,
        target: p.target,
        outcome: p.outcome,
        reason: p.reason,
        ...(p.details !== undefined ? { details: p.details } : {}),
        prev: this.#lastHash,
      };
      const entry: AuditEntry = { ...u, hash: entryHash(u) };
      const buf = Buffer.from(`${this.#needNewline ? '\n' : ''}${entryLine(entry)}\n`, 'utf8');
      while (written < buf.length) written += writeSync(this.#fd, buf, written, buf.length - written);
      this.#seq = entry.seq;
      this.#lastHash = entry.hash;
      this.#needNewline = false;
      return true;
    } catch (err) {
      if (written > 0) this.#needNewline = true;
      // Drop the fd so the next record reopens: the file may come back (remount, space freed).
      this.#closeFd();
      this.#fail(errCode(err) ?? 'EIO', err);
      return false;
    }
  }

  #fail(kind: string, cause: unknown): void {
    this.#failures++;
    if (this.#reported === kind) return;
    this.#reported = kind;
    const what =
      kind === 'REMOVED' ? 'the file was removed while open; continuing in a new file' : 'audit entries are being lost until it recovers';
    const message = `AUDIT LOG WRITE FAILED (${kind}): ${what}`;
    this.#logger.error(
      {
        file: this.file,
        code: kind,
        error: cause instanceof Error ? cause.message : String(cause),
        failures: this.#failures,
      },
      message,
    );
    try {
      this.#onError?.(createError('CB_ERR_AUDIT', message, { cause, details: { file: this.file, code: kind } }));
    } catch (err) {
      this.#logger.error({ error: err instanceof Error ? err.message : String(err) }, 'audit onError handler threw');
    }
  }

  #closeFd(): void {
    if (this.#fd === null) return;
    try {
      closeSync(this.#fd);
    } catch {
      /* already gone; nothing more to lose */
    }
    this.#fd = null;
  }
}

function openLogFd(file: string): number {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  return openSync(file, 'a', 0o600);
}

function errCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Finds the last valid entry. A complete entry missing only its newline still counts: nothing was lost. */
async function readTail(file: string, size: number): Promise<{ seq: number; hash: string; partial: boolean; skipped: number }> {
  const handle = await openAsync(file, 'r');
  try {
    let first = true;
    let partial = false;
    let skipped = 0;
    for await (const line of linesFromEnd(handle, size)) {
      if (first) {
        first = false;
        if (line.length === 0) continue;
        partial = true;
      }
      if (line.length === 0) continue;
      const r = parseAuditEntry(line.toString('utf8'));
      if (r.ok) return { seq: r.entry.seq, hash: r.entry.hash, partial, skipped };
      skipped++;
    }
    return { seq: 0, hash: GENESIS_HASH, partial, skipped };
  } finally {
    await handle.close();
  }
}

/** Redacts by key name at any depth, makes details plain JSON data (so the verifier re-derives the same bytes), and never throws. */
function sanitize(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (key, v: unknown) =>
      key !== '' && REDACT_KEY.test(key) ? REDACTED : typeof v === 'bigint' ? v.toString() : v,
    );
  } catch {
    return { error: 'details could not be serialized' };
  }
  if (text === undefined) return undefined;
  const out: unknown = JSON.parse(text);
  return isObject(out) ? out : { value: out };
}

function normalize(e: AuditEvent): Pending {
  // Only the known actor fields, in a fixed order; anything else (and any secret in it) is dropped.
  const actor: AuditActor = {};
  const src = (isObject(e.actor) ? e.actor : {}) as Record<string, unknown>;
  for (const k of ACTOR_KEYS) {
    const v = src[k];
    if (v !== undefined && v !== null) actor[k] = String(v);
  }
  const opt = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));
  const details = sanitize(e.details);
  return {
    actor,
    action: String(e.action),
    target: opt(e.target),
    outcome: String(e.outcome),
    reason: opt(e.reason),
    ...(details !== undefined ? { details } : {}),
  };
}
