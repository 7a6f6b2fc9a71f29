/**
 * The shape of a change from the log or the wire (untrusted): what `receive` rejects whole
 * before looking at the document, and what `decodeBatch` refuses.
 */
import { chunkEditProblem } from './chunk-edit.js';
import { parseHlc, replicaIdProblem } from './hlc.js';
import { parsePointer } from './pointer.js';
import { textEditProblem } from './text-edit.js';

const OP_TYPES = new Set(['insert', 'update', 'delete']);
const TAKES = new Set(['local', 'remote', 'merged']);

function opProblem(op: unknown): string | undefined {
  if (typeof op !== 'object' || op === null) return 'an op must be an object';
  const o = op as Record<string, unknown>;
  if (typeof o.type !== 'string' || !OP_TYPES.has(o.type)) return 'an op type must be insert, update or delete';
  if (typeof o.path !== 'string') return 'an op needs a path';
  try {
    parsePointer(o.path);
  } catch (error) {
    return (error as Error).message;
  }
  if (typeof o.timestamp !== 'number' || !Number.isFinite(o.timestamp)) return 'an op needs a timestamp';
  const inPlace = (o.text !== undefined ? 1 : 0) + (o.chunks !== undefined ? 1 : 0);
  if (inPlace > 1 || (inPlace === 1 && (o.type !== 'update' || o.value !== undefined))) {
    return 'a text or chunk edit is an update without a value, and only one of them';
  }
  if (o.text !== undefined) return textEditProblem(o.text);
  if (o.chunks !== undefined) return chunkEditProblem(o.chunks);
  if (o.type !== 'delete' && o.value === undefined) return `an ${o.type} needs a value`;
  return undefined;
}

/** Why `value` is not a change (or a log entry, with `seq`); undefined when it is one. */
export function changeProblem(value: unknown, entry = false): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a change must be an object';
  const c = value as Record<string, unknown>;
  const replica = replicaIdProblem(c.replica);
  if (replica !== undefined) return replica;
  if (!Number.isSafeInteger(c.rseq) || (c.rseq as number) < 1) return 'a change needs rseq, an integer >= 1';
  if (!Number.isSafeInteger(c.base) || (c.base as number) < 0) return 'a change needs base, an integer >= 0';
  if (entry && (!Number.isSafeInteger(c.seq) || (c.seq as number) < 1)) return 'a log entry needs seq, an integer >= 1';
  const hlc = parseHlc(c.hlc);
  if (hlc === undefined || hlc.replica !== c.replica) return "a change needs hlc, a hybrid logical clock of its replica's";
  if (!Array.isArray(c.ops)) return 'a change needs ops, an array';
  for (const op of c.ops) {
    const problem = opProblem(op);
    if (problem !== undefined) return problem;
  }
  if (c.hash !== undefined && (typeof c.hash !== 'string' || !/^[\w-]{43}$/.test(c.hash))) return 'a change hash is a SHA-256 in base64url';
  if (c.resolve !== undefined) {
    const r = c.resolve as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || typeof r.conflict !== 'string' || typeof r.take !== 'string' || !TAKES.has(r.take)) {
      return 'a resolve needs conflict (an id) and take (local, remote or merged)';
    }
  }
  if (c.meta !== undefined && (typeof c.meta !== 'object' || c.meta === null || Array.isArray(c.meta)))
    return 'a change meta must be an object';
  return undefined;
}
