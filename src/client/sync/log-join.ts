/**
 * A document joins its log: its stream (created by the first replica to open the document), the
 * latest snapshot when entries this replica never read are gone, the log read to its end, the kind
 * checked against the document's, the confirmed state saved (so that the next open may be made
 * without the hub), the meta proposed when the log has none, and the offline queue sent. At open
 * when the bus is connected; for a document opened from its store without the hub, at each
 * connect until it succeeds. Runtime-neutral.
 */
import { ConfigError, createError, isCrossbusError } from '../../core/errors/index.js';
import { DEFAULT_SYNC_MAX_INFLATED_BYTES } from '../../core/sync/index.js';
import type { DocContext } from './doc-context.js';
import type { DocumentParts } from './sync-doc.js';
import { decodeSnapshot } from './snapshot-codec.js';
import { ensureStream, latestSnapshot } from './stream-setup.js';

/** Joins the log; `savedUpTo`: the changes up to this rseq were in the store at open. */
export async function joinLog(parts: DocumentParts, kind: 'json' | 'files' | undefined, savedUpTo: number): Promise<void> {
  const { ctx, local, reader, feed } = parts;
  const { bus, names } = ctx;
  const info = await ensureStream(bus, names);
  // Entries this replica never read are gone: the latest snapshot stands in for them.
  if (ctx.replica.seq + 1 < info.state.firstSeq) {
    const found = await latestSnapshot(bus, names);
    if (found !== undefined) {
      const snapshot = decodeSnapshot(found.data, DEFAULT_SYNC_MAX_INFLATED_BYTES);
      if (snapshot.seq >= ctx.replica.seq) {
        reader.load(snapshot);
        feed.skipTo(snapshot.seq);
      }
    }
  }
  await feed.start();
  const { state } = await bus.streams.info(names.stream);
  await reader.reached(state.lastSeq);
  checkKind(ctx, kind);
  if (ctx.closed) return;
  reader.saveSnapshot();
  local.proposeMeta();
  local.start(savedUpTo);
}

/** CB_ERR_CONFLICTING_OPTIONS when the document is of another kind than open() asked for. */
export function checkKind(ctx: DocContext, requested: 'json' | 'files' | undefined): void {
  const meta = ctx.replica.meta;
  const kind = meta?.kind ?? 'json';
  if (meta === undefined || requested === undefined || requested === kind) return;
  throw new ConfigError(
    'CB_ERR_CONFLICTING_OPTIONS',
    `document ${JSON.stringify(ctx.names.doc)} is a ${kind === 'files' ? 'file tree' : 'JSON document'}, opened as kind ${JSON.stringify(requested)}`,
    {
      details: { option: 'kind', kind },
    },
  );
}

/**
 * A document opened without the hub joins its log once the bus connects, and tries again at the
 * next connect when that fails (an `error` event says why). Returns what stops it (closing).
 */
export function joinLater(parts: DocumentParts, kind: 'json' | 'files' | undefined, savedUpTo: number): () => void {
  const { ctx } = parts;
  let joining = false;
  let off: (() => void) | undefined;
  const attempt = (): void => {
    if (joining || ctx.closed) return;
    joining = true;
    joinLog(parts, kind, savedUpTo).then(
      () => {
        off?.();
        off = undefined;
      },
      (error: unknown) => {
        joining = false;
        // Lost with the connection: the next connect tries again, nothing to report.
        if (ctx.bus.state !== 'connected') return;
        ctx.emitError(isCrossbusError(error) ? error : createError('CB_ERR_INTERNAL', 'joining the log failed', { cause: error }), true);
      },
    );
  };
  off = ctx.bus.on('connected', attempt);
  return () => {
    off?.();
    off = undefined;
  };
}
