/**
 * What every replica of a document holds alike, a function of the log alone: the confirmed
 * document, the log position, the version vector, the history, the conflicts and the meta.
 * `fork()` is a copy to try changes on (the view's pending changes) without touching it.
 */
import { ConflictBook } from './conflict-book.js';
import { History } from './history.js';
import { resolveMeta, type ResolvedMeta } from './meta.js';
import type { DocumentMeta } from './types.js';
import { VersionVector } from './version-vector.js';

export class DocState {
  doc: unknown = {};
  seq = 0;
  vv = new VersionVector();
  meta: ResolvedMeta = resolveMeta();
  /** The meta entry as the log carried it (undefined until one arrives). */
  rawMeta: DocumentMeta | undefined;
  history: History = new History(this.meta.limits.historyLimit);
  conflicts: ConflictBook = new ConflictBook(this.meta.limits.maxResolvedConflicts);
  /** Ops counted so far in the message at `seq`: conflict ids of a batch's changes count through it. */
  msgOps = 0;
  /** The replica of the last change at `seq` (a message's changes all come from one). */
  msgReplica: string | undefined;
  /** The greatest HLC the log carried: a restarted replica's clock moves past it, also past its own evicted changes. */
  maxHlc = '';

  fork(): DocState {
    const s = new DocState();
    s.doc = this.doc;
    s.seq = this.seq;
    s.vv = this.vv.clone();
    s.meta = this.meta;
    s.rawMeta = this.rawMeta;
    s.history = this.history.clone();
    s.conflicts = this.conflicts.clone();
    s.msgOps = this.msgOps;
    s.msgReplica = this.msgReplica;
    s.maxHlc = this.maxHlc;
    return s;
  }

  adoptMeta(raw: DocumentMeta, meta: ResolvedMeta): void {
    this.rawMeta = raw;
    this.meta = meta;
    this.history.limit = meta.limits.historyLimit;
    this.conflicts.maxResolved = meta.limits.maxResolvedConflicts;
  }
}
