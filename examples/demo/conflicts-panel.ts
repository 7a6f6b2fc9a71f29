/**
 * The conflicts panel: the conflicts parked in the project document (the same on every replica),
 * with the lines the log keeps (local) and those the parked edits wanted (remote), and a button
 * for each. A held editor's keystrokes are one change, but an editor that went live between
 * remote changes parks one change per stretch, so they are shown by whose they are and which file:
 * keeping local settles each so; taking remote takes the last (what that editor ended with) and
 * keeps the log's for the others. Each choice is a
 * `resolve` change in the log: every replica settles it alike.
 */
import type { ConflictInfo, SyncDocument } from '../../src/browser/sync.js';

export interface ConflictsPanelOptions {
  /** The replica whose parked conflicts are listed. */
  doc: SyncDocument;
  /** The replica a choice is made through (a live one: the resolve is sent at once). */
  resolveWith(): SyncDocument;
  /** Who a replica id is, for people ('editor B'). */
  label(replica: string): string;
  onError(err: unknown): void;
}

export class ConflictsPanel {
  readonly #list: HTMLElement;
  readonly #count: HTMLElement;
  readonly #o: ConflictsPanelOptions;

  constructor(list: HTMLElement, count: HTMLElement, options: ConflictsPanelOptions) {
    this.#list = list;
    this.#count = count;
    this.#o = options;
    for (const event of ['conflict', 'resolved', 'change'] as const) options.doc.on(event, () => this.render());
    this.render();
  }

  render(): void {
    const conflicts = this.#o.doc.conflicts;
    this.#count.textContent = conflicts.length === 0 ? 'none' : `${conflicts.length} parked`;
    const groups = new Map<string, ConflictInfo[]>();
    for (const c of conflicts) {
      const key = `${c.replica} ${c.path}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [c]);
      else group.push(c);
    }
    this.#list.replaceChildren(...[...groups.values()].map((g) => this.#item(g)));
  }

  /** One editor's parked edits of one file, in log order. */
  #item(group: readonly ConflictInfo[]): HTMLElement {
    const first = group[0] as ConflictInfo;
    const last = group[group.length - 1] as ConflictInfo;
    const who = this.#o.label(first.replica);
    const li = document.createElement('li');
    li.dataset.conflicts = group.map((c) => c.id).join(' ');
    const head = document.createElement('div');
    const edits = group.length === 1 ? 'edit was' : `${group.length} edits were`;
    head.textContent = `${first.path}: ${who}'s ${edits} parked (${first.strategy}: the same lines, edited at once)`;
    // What the log has now is the same for all of them: parking leaves the value as it was.
    const [local, remote] = changedLines(textOf(last.localChange.value), textOf(last.remoteChange.value));
    const sides = document.createElement('div');
    sides.className = 'sides';
    sides.append(
      this.#side('local: what the log has', local, 'take-local', () => this.#take(group, undefined)),
      this.#side(`remote: what ${who} wrote`, remote, 'take-remote', () => this.#take(group, last.id)),
    );
    li.append(head, sides);
    return li;
  }

  #side(title: string, lines: string, className: string, choose: () => void): HTMLElement {
    const div = document.createElement('div');
    const small = document.createElement('small');
    small.textContent = title;
    const pre = document.createElement('pre');
    pre.textContent = lines;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = className;
    button.textContent = className === 'take-local' ? 'keep local' : 'take remote';
    button.addEventListener('click', choose);
    div.append(small, pre, button);
    return div;
  }

  /** Settles every conflict of `group`: `remote` for the one named, `local` for the others. */
  #take(group: readonly ConflictInfo[], remote: string | undefined): void {
    try {
      const doc = this.#o.resolveWith();
      for (const c of group) doc.resolve(c.id, c.id === remote ? 'remote' : 'local');
      doc.sync();
      doc.flushed().catch(this.#o.onError);
    } catch (err) {
      this.#o.onError(err);
    }
  }
}

/** A file's text (`{ text }`), or '' for a file that is not there. */
function textOf(file: unknown): string {
  const text = (file as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text : '';
}

/** The lines of `a` and of `b` that differ: both without the lines they share at the start and the end. */
export function changedLines(a: string, b: string): [string, string] {
  const x = a.split('\n');
  const y = b.split('\n');
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  return [x.slice(head, x.length - tail).join('\n'), y.slice(head, y.length - tail).join('\n')];
}
