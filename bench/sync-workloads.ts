/**
 * The workloads of `npm run bench -- sync`, made from a fixed seed so that every system and every
 * run sees the same bytes: a project of small text files, a JSON document with its edited copies,
 * and a two-author typing trace over one text file.
 */

/** A small deterministic PRNG (mulberry32): workloads, not cryptography. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'const let return function value index item state sync delta merge replica topic stream hub client'.split(' ');

function line(rand: () => number): string {
  const n = 3 + Math.floor(rand() * 8);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)] as string);
  return `${'  '.repeat(Math.floor(rand() * 3))}${words.join(' ')};`;
}

/** About `totalBytes` of source-like text in `files` files: path → content. */
export function makeProject(files: number, totalBytes: number, seed = 1): Map<string, string> {
  const rand = prng(seed);
  const per = Math.floor(totalBytes / files);
  const out = new Map<string, string>();
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    let size = 0;
    while (size < per) {
      const l = line(rand);
      lines.push(l);
      size += l.length + 1;
    }
    out.set(`/src/module-${String(f).padStart(3, '0')}/file-${f}.ts`, `${lines.join('\n')}\n`);
  }
  return out;
}

/** The same file with one line changed in its middle. */
export function editOneLine(text: string): string {
  const lines = text.split('\n');
  const i = Math.floor(lines.length / 2);
  lines[i] = `${lines[i]} // edited`;
  return lines.join('\n');
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON document of about `bytes` bytes: records with nested objects and short arrays. */
export function makeJsonDocument(bytes: number, seed = 2): { [key: string]: Json } {
  const rand = prng(seed);
  const records: { [key: string]: Json } = {};
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const r: { [key: string]: Json } = {
      id: i,
      name: `record ${i} ${WORDS[i % WORDS.length]}`,
      active: rand() < 0.5,
      score: Math.round(rand() * 1e6) / 100,
      tags: [WORDS[Math.floor(rand() * WORDS.length)] as string, WORDS[Math.floor(rand() * WORDS.length)] as string],
      meta: { created: 1_700_000_000_000 + i * 1000, owner: `user-${Math.floor(rand() * 100)}`, version: 1 },
    };
    records[`r${i}`] = r;
    size += JSON.stringify(r).length + 8;
  }
  return { title: 'bench document', records };
}

/** Every leaf's path (as keys) in `doc`. */
function leafPaths(doc: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (doc !== null && typeof doc === 'object') {
    if (Array.isArray(doc)) doc.forEach((v, i) => leafPaths(v, [...prefix, i], out));
    else for (const [k, v] of Object.entries(doc)) leafPaths(v, [...prefix, k], out);
  } else out.push(prefix);
  return out;
}

/**
 * A deep copy of `doc` with `fraction` of its leaves changed at random (numbers and strings
 * rewritten, booleans flipped), plus a few records added and removed: the "1 % random edits".
 */
export function editJson(doc: { [key: string]: Json }, fraction: number, seed: number): { [key: string]: Json } {
  const rand = prng(seed);
  const copy = structuredClone(doc) as { [key: string]: Json };
  const leaves = leafPaths(copy);
  const n = Math.max(1, Math.round(leaves.length * fraction));
  for (let i = 0; i < n; i++) {
    const path = leaves[Math.floor(rand() * leaves.length)] as (string | number)[];
    let parent = copy as Json;
    for (const k of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[k] as Json;
    const key = path[path.length - 1] as string | number;
    const old = (parent as Record<string | number, Json>)[key] as Json;
    (parent as Record<string | number, Json>)[key] =
      typeof old === 'number' ? old + 1 : typeof old === 'boolean' ? !old : `${String(old)}-${i}`;
  }
  const records = copy.records as { [key: string]: Json };
  const ids = Object.keys(records);
  for (let i = 0; i < Math.max(1, Math.round(ids.length * fraction * 0.1)); i++) {
    delete records[ids[Math.floor(rand() * ids.length)] as string];
    records[`new-${seed}-${i}`] = { id: -i, name: 'added', tags: [] };
  }
  return copy;
}

/** One edit of a typing trace: at `pos` in the author's current text, delete `del` characters and insert `ins`. */
export interface TraceEdit {
  author: 0 | 1;
  pos: number;
  del: number;
  ins: string;
}

/**
 * A two-author typing trace over one text: each author types words and newlines near its own
 * cursor, now and then deletes a few characters or jumps to another place. Positions are valid in
 * the author's own copy when each author sees only its own edits and those it has received; the
 * bench replays it that way, so the trace is computed against a shared text where both authors'
 * edits land in order (the recorded order), and each system then exchanges them concurrently.
 */
export function makeTypingTrace(edits: number, seed = 3): { initial: string; edits: TraceEdit[] } {
  const rand = prng(seed);
  const initial = `${Array.from({ length: 200 }, () => line(rand)).join('\n')}\n`;
  let len = initial.length;
  const cursor = [Math.floor(len * 0.25), Math.floor(len * 0.75)];
  const out: TraceEdit[] = [];
  for (let i = 0; i < edits; i++) {
    const author = (rand() < 0.5 ? 0 : 1) as 0 | 1;
    let pos = Math.min(cursor[author] as number, len);
    if (rand() < 0.02) pos = Math.floor(rand() * len);
    const r = rand();
    let del = 0;
    let ins = '';
    if (r < 0.12 && pos > 0) {
      del = Math.min(pos, 1 + Math.floor(rand() * 3));
      pos -= del;
    } else if (r < 0.2) ins = '\n';
    else ins = `${WORDS[Math.floor(rand() * WORDS.length)]} `;
    out.push({ author, pos, del, ins });
    len += ins.length - del;
    cursor[author] = pos + ins.length;
    const other = (1 - author) as 0 | 1;
    if ((cursor[other] as number) > pos) cursor[other] = Math.max(pos, (cursor[other] as number) + ins.length - del);
  }
  return { initial, edits: out };
}
