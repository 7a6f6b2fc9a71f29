/**
 * StreamStorage in memory: the same contract as the segment log without a disk. Used by hubs
 * that have no data directory (tests, an in-page hub) and as the model in storage tests.
 */
import { createError } from '../errors/index.js';
import type { AppendInput, ReadOptions, RetentionLimits, StorageState, StoredMessage, StreamStorage } from './storage.js';

/** Approximate stored size of one message: what retention by bytes counts. */
function sizeOf(m: AppendInput): number {
  let n = 48 + m.topic.length + m.payload.length + (m.msgId?.length ?? 0);
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += k.length + v.length + 4;
  return n;
}

export class MemoryStorage implements StreamStorage {
  private msgs: Array<StoredMessage & { size: number }> = [];
  private firstSeq = 1;
  private lastSeq = 0;
  private lastTime = 0;
  private bytes = 0;
  private closed = false;

  constructor(
    private retention: RetentionLimits = {},
    private readonly clock: () => number = Date.now,
  ) {}

  /** Opened again (a stream's config changed): the same messages under the new limits. */
  reopen(retention: RetentionLimits): void {
    this.retention = retention;
    this.closed = false;
  }

  async append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }> {
    this.check();
    const first = this.lastSeq + 1;
    for (const m of msgs) {
      this.lastTime = Math.max(this.lastTime, m.time);
      const size = sizeOf(m);
      this.msgs.push({ ...m, seq: ++this.lastSeq, time: this.lastTime, payload: m.payload.slice(), size });
      this.bytes += size;
    }
    await this.enforceRetention();
    return { firstSeq: first, lastSeq: this.lastSeq };
  }

  async read(fromSeq: number, options: ReadOptions = {}): Promise<StoredMessage[]> {
    this.check();
    const max = options.maxMessages ?? 1000;
    let budget = options.maxBytes ?? Infinity;
    const out: StoredMessage[] = [];
    for (let i = Math.max(0, Math.floor(fromSeq) - this.firstSeq); i < this.msgs.length && out.length < max; i++) {
      const { size, ...m } = this.msgs[i]!;
      if (out.length > 0 && size > budget) break;
      budget -= size;
      out.push(m);
    }
    return out;
  }

  async seqAtTime(timeMs: number): Promise<number | undefined> {
    return this.msgs.find((m) => m.time >= timeMs)?.seq;
  }

  state(): StorageState {
    const st: StorageState = { firstSeq: this.firstSeq, lastSeq: this.lastSeq, messages: this.msgs.length, bytes: this.bytes, segments: 1 };
    if (this.msgs.length > 0) {
      st.firstTime = this.msgs[0]!.time;
      st.lastTime = this.msgs[this.msgs.length - 1]!.time;
    }
    return st;
  }

  async purge(options: { upToSeq?: number } = {}): Promise<number> {
    this.check();
    return this.dropTo(Math.min(options.upToSeq ?? Infinity, this.lastSeq) + 1);
  }

  async enforceRetention(now = this.clock()): Promise<number> {
    const r = this.retention;
    let target = this.firstSeq;
    if (r.maxMessages !== undefined) target = Math.max(target, this.lastSeq - r.maxMessages + 1);
    let bytes = this.bytes;
    for (const m of this.msgs) {
      const tooBig = r.maxBytes !== undefined && bytes > r.maxBytes;
      const tooOld = r.maxAgeMs !== undefined && now - m.time > r.maxAgeMs;
      if (m.seq >= target && !tooBig && !tooOld) break;
      target = Math.max(target, m.seq + 1);
      bytes -= m.size;
    }
    return this.dropTo(target);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private dropTo(target: number): number {
    if (target <= this.firstSeq) return 0;
    const n = Math.min(target - this.firstSeq, this.msgs.length);
    for (const m of this.msgs.splice(0, n)) this.bytes -= m.size;
    this.firstSeq = target;
    return n;
  }

  private check(): void {
    if (this.closed) throw createError('CB_ERR_STREAM_CLOSED', 'stream storage is closed');
  }
}
