/**
 * A progress bar for long CLI runs (stream and dead-letter replays), drawn on stderr so stdout
 * stays clean for data:  `[####------] 42% 4200/10000  3.1k msg/s  ETA 2s`.
 *
 * On a terminal it redraws one line in place (\r), at most every `redrawMs`; anywhere else (a log
 * file, CI) it prints a full line at most once per 10% of progress. The stream and the clock are
 * injected so tests can drive it.
 */

/** Where the bar is drawn: process.stderr, or anything with `write` (and `isTTY` for a terminal). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Messages expected; the bar grows it when more arrive. */
  total: number;
  stream: ProgressStream;
  /** Shown before the bar, e.g. "replay ORDERS". @default none */
  label?: string;
  /** @default Date.now */
  now?: () => number;
  /** Cells inside the brackets. @default 20 */
  width?: number;
  /** Least time between two redraws on a terminal. @default 100 (at most 10 a second) */
  redrawMs?: number;
}

/** Runs with more messages than this show a bar unless told otherwise. */
export const PROGRESS_THRESHOLD = 1000;

/**
 * Whether to show a bar: `--progress` (true) always, `--no-progress` (false) never, otherwise
 * only for runs of more than PROGRESS_THRESHOLD messages.
 */
export function progressWanted(flag: boolean | undefined, total: number): boolean {
  return flag ?? total > PROGRESS_THRESHOLD;
}

/** 950, 3.1k, 42k, 1.2M: a compact count for rates. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  if (n < 1000) return n < 10 && !Number.isInteger(n) ? n.toFixed(1) : String(Math.round(n));
  if (n < 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (n < 1_000_000) return `${Math.round(n / 1000)}k`;
  if (n < 10_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  return `${Math.round(n / 1_000_000)}M`;
}

/** 2s, 3m 12s, 2h 05m. */
export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One line of the bar, without \r or \n. The rate and ETA appear once there is a measurable
 * elapsed time; `total` 0 counts as done.
 */
export function formatProgress(done: number, total: number, elapsedMs: number, width = 20): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.floor(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const pct = `${Math.floor(ratio * 100)}%`;
  let line = `${bar} ${pct} ${done}/${total}`;
  if (elapsedMs > 0 && done > 0) {
    const rate = (done * 1000) / elapsedMs;
    line += `  ${formatCount(rate)} msg/s`;
    if (done < total) line += `  ETA ${formatEta(((total - done) / rate) * 1000)}`;
  }
  return line;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly width: number;
  private readonly redrawMs: number;
  private readonly prefix: string;
  private readonly tty: boolean;
  private readonly started: number;
  private total: number;
  private done = 0;
  /** TTY: when the bar was last drawn; -Infinity before the first draw. */
  private lastDraw = -Infinity;
  /** Not a TTY: the last tenth (0..10) printed; -1 before the first line. */
  private lastDecile = -1;
  /** Not a TTY: the count of the last line printed. */
  private lastPrinted = -1;
  /** Width of the line on screen, so a shorter redraw erases the rest. */
  private drawnLength = 0;
  private finished = false;

  constructor(options: ProgressOptions) {
    this.stream = options.stream;
    this.now = options.now ?? Date.now;
    this.width = options.width ?? 20;
    this.redrawMs = options.redrawMs ?? 100;
    this.prefix = options.label === undefined ? '' : `${options.label} `;
    this.tty = options.stream.isTTY === true;
    this.total = Math.max(0, options.total);
    this.started = this.now();
  }

  /** Messages counted so far. */
  get count(): number {
    return this.done;
  }

  /** Sets the count of messages done (never goes backwards). */
  update(done: number): void {
    if (this.finished) return;
    this.done = Math.max(this.done, done);
    if (this.done > this.total) this.total = this.done;
    this.render(false);
  }

  /** Counts `n` more messages. */
  tick(n = 1): void {
    this.update(this.done + n);
  }

  /**
   * Draws the final state and ends the line. `complete` (default true) means the run finished:
   * the total becomes the count, so the bar reads 100% even when fewer messages came than expected.
   */
  finish(complete = true): void {
    if (this.finished) return;
    if (complete) this.total = this.done;
    this.render(true);
    if (this.tty && this.drawnLength > 0) this.stream.write('\n');
    this.finished = true;
  }

  private line(): string {
    return this.prefix + formatProgress(this.done, this.total, this.now() - this.started, this.width);
  }

  private render(final: boolean): void {
    if (this.tty) {
      const t = this.now();
      if (!final && t - this.lastDraw < this.redrawMs) return;
      this.lastDraw = t;
      const text = this.line();
      // Spaces over what a longer earlier line left behind (no escape codes: works everywhere).
      const pad = this.drawnLength > text.length ? ' '.repeat(this.drawnLength - text.length) : '';
      this.stream.write(`\r${text}${pad}`);
      this.drawnLength = text.length;
      return;
    }
    const decile = this.total <= 0 ? 10 : Math.floor((Math.min(this.done, this.total) * 10) / this.total);
    // A line per new tenth; the final state once, unless that exact count was printed already.
    if (final ? this.done === this.lastPrinted && decile <= this.lastDecile : decile <= this.lastDecile) return;
    this.lastDecile = decile;
    this.lastPrinted = this.done;
    this.stream.write(`${this.line()}\n`);
  }
}
