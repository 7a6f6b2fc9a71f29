/**
 * Conflicts announced on the bus: when a change of this replica is parked, or a resolve of this
 * replica settles a conflict, one message goes to the document's conflicts topic
 * (`sync.project.42.conflicts`), so that a dashboard, or `crossbus sync conflicts --watch`, sees
 * it without reading the document. Only the author announces (of the parked change, of the
 * resolve): N replicas send one message, not N. Plain publishes, which the document's stream does
 * not keep: who is not listening misses them (`doc.conflicts` lists what is parked). A conflict
 * carries values that may be whole files: an announcement is kept within `maxAnnouncementBytes`
 * by leaving the largest values out, named in `truncated`. Runtime-neutral.
 */
import { isCrossbusError, createError } from '../../core/errors/index.js';
import { utf8Length } from '../../core/protocol/utf8.js';
import type { ConflictInfo, DeltaOperation } from '../../core/sync/index.js';
import type { DocContext } from './doc-context.js';

/** A conflict as announced: its changes may lack values (see `truncated`), or be left out. */
export type AnnouncedConflict = Omit<ConflictInfo, 'localChange' | 'remoteChange'> & {
  readonly localChange?: DeltaOperation;
  readonly remoteChange?: DeltaOperation;
};

/** What `<doc topic>.conflicts` carries (JSON). */
export interface ConflictAnnouncement {
  /** `parked`: a change was parked (a resolver or a person decides); `resolved`: a resolve settled it (`resolution`, `resolvedBy`, `resolvedTime`). */
  readonly event: 'parked' | 'resolved';
  /** The document's name (`project/42`). */
  readonly doc: string;
  readonly conflict: AnnouncedConflict;
  /**
   * What was left out to stay within the bound: `localChange.value`, `remoteChange.text`, …; in
   * the last resort `localChange` and `remoteChange` whole, and `path` (then cut short).
   */
  readonly truncated?: readonly string[];
}

const VALUE_FIELDS = ['value', 'oldValue', 'text', 'chunks'] as const;
const SIDES = ['localChange', 'remoteChange'] as const;

const jsonBytes = (v: unknown): number => utf8Length(JSON.stringify(v) ?? '');

/** The announcement of `conflict`, its JSON within `max` bytes (the document name and ids are bounded elsewhere). */
export function boundAnnouncement(event: 'parked' | 'resolved', doc: string, conflict: ConflictInfo, max: number): ConflictAnnouncement {
  const full: ConflictAnnouncement = { event, doc, conflict };
  if (jsonBytes(full) <= max) return full;
  // The values go, largest first, until it fits.
  const changes: Record<(typeof SIDES)[number], Record<string, unknown>> = {
    localChange: { ...conflict.localChange },
    remoteChange: { ...conflict.remoteChange },
  };
  const values: Array<{ side: (typeof SIDES)[number]; field: string; bytes: number }> = [];
  for (const side of SIDES) {
    for (const field of VALUE_FIELDS) {
      if (changes[side][field] !== undefined) values.push({ side, field, bytes: jsonBytes(changes[side][field]) });
    }
  }
  values.sort((a, b) => b.bytes - a.bytes);
  const truncated: string[] = [];
  let out: ConflictAnnouncement = full;
  for (const v of values) {
    delete changes[v.side][v.field];
    truncated.push(`${v.side}.${v.field}`);
    out = {
      event,
      doc,
      conflict: { ...conflict, ...(changes as unknown as Pick<ConflictInfo, 'localChange' | 'remoteChange'>) },
      truncated,
    };
    if (jsonBytes(out) <= max) return out;
  }
  // A path long enough to break the bound alone (a change's size allows it): the changes go, the path is cut.
  const { localChange: _local, remoteChange: _remote, ...rest } = conflict;
  const bare = { event, doc, conflict: { ...rest, path: '' }, truncated: ['localChange', 'remoteChange', 'path'] };
  bare.conflict.path = cutToJsonBytes(conflict.path, max - jsonBytes(bare));
  return bare;
}

/** The longest start of `s` whose JSON string (without its quotes) takes at most `room` bytes. */
function cutToJsonBytes(s: string, room: number): string {
  let used = 0;
  let end = 0;
  for (const ch of s) {
    used += jsonBytes(ch) - 2;
    if (used > room) break;
    end += ch.length;
  }
  return s.slice(0, end);
}

export class ConflictAnnouncer {
  readonly #ctx: DocContext;
  /** Publishes not yet handed to the bus: closing waits for them. */
  readonly #sending = new Set<Promise<void>>();

  constructor(ctx: DocContext) {
    this.#ctx = ctx;
  }

  /** After a log entry: announces the conflicts it parked for this replica's change, and those this replica's resolve settled. */
  entry(parked: readonly ConflictInfo[], resolved: readonly ConflictInfo[]): void {
    const ctx = this.#ctx;
    if (!ctx.options.announceConflicts) return;
    const me = ctx.replica.id;
    for (const c of parked) if (c.replica === me) this.#send('parked', c);
    for (const c of resolved) if (c.resolvedBy === me) this.#send('resolved', c);
  }

  #send(event: 'parked' | 'resolved', conflict: ConflictInfo): void {
    const ctx = this.#ctx;
    const message = boundAnnouncement(event, ctx.names.doc, conflict, ctx.options.maxAnnouncementBytes);
    const sent: Promise<void> = ctx.bus
      .publish(ctx.names.conflictsTopic, message)
      .catch((error: unknown) => {
        // Not fatal (the conflict is in the document either way), but the application should know: no grant on the topic, say.
        if (ctx.bus.state === 'closed') return;
        ctx.emitError(isCrossbusError(error) ? error : createError('CB_ERR_INTERNAL', 'announcing a conflict failed', { cause: error }));
      })
      .finally(() => this.#sending.delete(sent));
    this.#sending.add(sent);
  }

  /** Resolves once every announcement made so far is handed to the bus (closing the bus then sends it). */
  async settled(): Promise<void> {
    await Promise.all([...this.#sending]);
  }
}
