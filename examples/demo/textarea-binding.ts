/**
 * A textarea bound to one text file of a replicated file tree. Typing edits the file (a text
 * diff against what the replica shows); whatever the log brings shows at once, the caret kept in
 * the text around it. Live, every edit is sent at once (`sync()`); held, the edits wait in the
 * replica, as those of an editor on a slow link would, and go when it is live again: two held
 * editors that edit one line are what a conflict looks like.
 */
import type { SyncDocument } from '../../src/browser/sync.js';

export class TextareaBinding {
  readonly #area: HTMLTextAreaElement;
  readonly #doc: SyncDocument;
  readonly #path: string;
  readonly #state: HTMLElement;
  readonly #onError: (err: unknown) => void;
  #live = true;

  constructor(area: HTMLTextAreaElement, doc: SyncDocument, path: string, state: HTMLElement, onError: (err: unknown) => void) {
    this.#area = area;
    this.#doc = doc;
    this.#path = path;
    this.#state = state;
    this.#onError = onError;
    area.addEventListener('input', () => this.#edit());
    doc.on('change', () => this.show());
    doc.on('rejected', (e) => onError(e.error));
    doc.on('error', (e) => onError(e.error));
    this.show();
    area.disabled = false;
  }

  get doc(): SyncDocument {
    return this.#doc;
  }

  get live(): boolean {
    return this.#live;
  }

  /** Held: edits wait in the replica. Live again: what waited is sent. */
  set live(live: boolean) {
    this.#live = live;
    if (live) this.#send();
    else this.#showState();
  }

  /** Shows the file as the replica has it (nothing to do when the textarea has it already). */
  show(): void {
    const text = this.#doc.readFile(this.#path);
    replaceKeepingCaret(this.#area, typeof text === 'string' ? text : '');
    this.#showState();
  }

  #edit(): void {
    this.#doc.writeFile(this.#path, this.#area.value).catch(this.#onError);
    if (this.#live) this.#send();
    else this.#showState();
  }

  #send(): void {
    this.#doc.sync();
    this.#showState();
    this.#doc.flushed().then(
      () => this.#showState(),
      (err: unknown) => this.#onError(err),
    );
  }

  #showState(): void {
    const waiting = this.#doc.pendingChanges;
    const where = `log seq ${this.#doc.seq}`;
    this.#state.textContent =
      waiting === 0 ? `in step, ${where}` : `${waiting} change${waiting === 1 ? '' : 's'} waiting${this.#live ? '' : ' (held)'}, ${where}`;
  }
}

/**
 * Sets the textarea's text; when it has the focus, a caret (or selection end) before the changed
 * part stays, one after it moves with the text after it, one inside it goes to its end.
 */
export function replaceKeepingCaret(area: HTMLTextAreaElement, text: string): void {
  const old = area.value;
  if (old === text) return;
  if (document.activeElement !== area) {
    area.value = text;
    return;
  }
  let head = 0;
  while (head < old.length && head < text.length && old[head] === text[head]) head++;
  let tail = 0;
  while (tail < old.length - head && tail < text.length - head && old[old.length - 1 - tail] === text[text.length - 1 - tail]) tail++;
  const moved = (i: number): number => (i <= head ? i : i >= old.length - tail ? i + text.length - old.length : text.length - tail);
  const start = moved(area.selectionStart);
  const end = moved(area.selectionEnd);
  area.value = text;
  area.setSelectionRange(start, end);
}
