/**
 * Random edits of a small JSON document for property tests: keys set and deleted, a text typed
 * into, array elements inserted, deleted and set.
 */
import fc from 'fast-check';

export type Doc = { [key: string]: unknown };

/** One edit of a small document: keys set and deleted, texts typed into, array elements inserted, deleted and set. */
export const edit = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.constantFrom('a', 'b', 'c'),
    value: fc.oneof(fc.integer(), fc.string({ maxLength: 3 })),
  }),
  fc.record({ kind: fc.constant('del' as const), key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ kind: fc.constant('type' as const), at: fc.nat(40), s: fc.string({ minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('arr' as const), op: fc.constantFrom('insert', 'delete', 'set'), at: fc.nat(6), v: fc.integer() }),
);

export type Edit =
  | { kind: 'set'; key: string; value: number | string }
  | { kind: 'del'; key: string }
  | { kind: 'type'; at: number; s: string }
  | { kind: 'arr'; op: 'insert' | 'delete' | 'set'; at: number; v: number };

export function step(doc: Doc, e: Edit): Doc {
  const next: Doc = { ...doc, l: [...(doc.l as number[])] };
  const l = next.l as number[];
  if (e.kind === 'set') next[e.key] = e.value;
  else if (e.kind === 'del') delete next[e.key];
  else if (e.kind === 'type') {
    const t = next.t as string;
    const i = e.at % (t.length + 1);
    next.t = t.slice(0, i) + e.s + t.slice(i);
  } else if (e.op === 'insert') l.splice(e.at % (l.length + 1), 0, e.v);
  else if (l.length > 0 && e.op === 'delete') l.splice(e.at % l.length, 1);
  else if (l.length > 0) l[e.at % l.length] = e.v;
  return next;
}

/** The document edits start from. */
export function startDoc(): Doc {
  return { t: 'a text long enough to be edited in place', l: [1, 2, 3], a: 0 };
}
