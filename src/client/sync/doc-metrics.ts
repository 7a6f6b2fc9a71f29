/**
 * What one open document counts for its metrics: the conflicts its log met (by strategy and
 * outcome), how long parked conflicts waited for their resolution, and the changes sent, applied
 * and rejected. Counted from the entries this process applies, once each: an entry read again
 * (after a reload from an older snapshot) is not counted twice. Every replica of a document counts
 * the same conflicts, because every replica applies the same log. Runtime-neutral.
 */
import { Histogram } from '../../core/metrics/histogram.js';
import type { ConflictInfo } from '../../core/sync/index.js';

/** How a conflict ended up: parked (a person or a resolver decides), merged (texts merged cleanly), lww (the later edit won at once), resolved (a parked one settled). */
export type ConflictOutcome = 'parked' | 'merged' | 'lww' | 'resolved';

/** Seconds from a conflict's detection to its resolution: a resolver takes milliseconds, a person may take days. */
export const SYNC_RESOLUTION_BUCKETS: readonly number[] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14_400, 86_400, 604_800];

/** What one log entry (one stream message) did, as the metrics and the announcements see it. */
export interface EntryReport {
  readonly seq: number;
  /** Conflicts it parked. */
  readonly parked: readonly ConflictInfo[];
  /** Conflicts it decided (lww: no `resolvedBy`) or settled (a resolve: `resolvedBy`). */
  readonly resolved: readonly ConflictInfo[];
  /** Paths where its text edits met concurrent ones and merged cleanly. */
  readonly merged: readonly string[];
  /** Changes applied: this replica's, and other replicas'. */
  readonly appliedLocal: number;
  readonly appliedRemote: number;
  /** Other replicas' changes the log's rules rejected (this replica's are counted as `rejected` events). */
  readonly rejectedRemote: number;
  /** Changes whose clock was further ahead of the hub's time than the document allows (clamped). */
  readonly clockClamped?: number;
}

export class DocMetrics {
  /** Conflicts, by strategy and outcome. */
  readonly #conflicts = new Map<string, { strategy: string; outcome: ConflictOutcome; count: number }>();
  /** Detection to resolution of parked conflicts, by strategy. */
  readonly #resolution = new Map<string, Histogram>();
  /** This replica's changes the hub stored. */
  sent = 0;
  appliedLocal = 0;
  appliedRemote = 0;
  /** This replica's changes rejected: by the log's rules, or refused by the hub. */
  rejectedLocal = 0;
  rejectedRemote = 0;
  clockClamped = 0;
  /** The last log position counted. */
  #countedSeq = 0;

  /** Whether the entry at `seq` is new to the counts (not one read again). */
  isNew(seq: number): boolean {
    return seq > this.#countedSeq;
  }

  /** Counts what the entry did; `strategyFor` names the strategy of a path (lww decides past maxConflicts too). */
  entry(report: EntryReport, strategyFor: (path: string) => string): void {
    if (!this.isNew(report.seq)) return;
    this.#countedSeq = report.seq;
    this.appliedLocal += report.appliedLocal;
    this.appliedRemote += report.appliedRemote;
    this.rejectedRemote += report.rejectedRemote;
    this.clockClamped += report.clockClamped ?? 0;
    for (const c of report.parked) this.#count(c.strategy, 'parked');
    if (report.merged.length > 0) this.#count('merge', 'merged', report.merged.length);
    for (const c of report.resolved) {
      if (c.resolvedBy === undefined) {
        this.#count(strategyFor(c.path), 'lww');
        continue;
      }
      this.#count(c.strategy, 'resolved');
      let h = this.#resolution.get(c.strategy);
      if (h === undefined) this.#resolution.set(c.strategy, (h = new Histogram(SYNC_RESOLUTION_BUCKETS)));
      // HLC times of the two changes (their authors' clocks, kept monotonic by the log): never below 0.
      h.observe(Math.max(0, (c.resolvedTime ?? c.detectionTime) - c.detectionTime) / 1000);
    }
  }

  /** A change of this replica was rejected; `seq`: where the log rejected it (none: the hub refused it). */
  rejected(seq: number | undefined): void {
    if (seq === undefined || this.isNew(seq)) this.rejectedLocal++;
  }

  /** Conflicts by strategy and outcome, each pair once. */
  get conflicts(): ReadonlyArray<{ readonly strategy: string; readonly outcome: ConflictOutcome; readonly count: number }> {
    return [...this.#conflicts.values()];
  }

  /** Resolution times by strategy. */
  get resolution(): ReadonlyMap<string, Histogram> {
    return this.#resolution;
  }

  #count(strategy: string, outcome: ConflictOutcome, n = 1): void {
    const key = `${strategy}\n${outcome}`;
    const found = this.#conflicts.get(key);
    if (found === undefined) this.#conflicts.set(key, { strategy, outcome, count: n });
    else found.count += n;
  }
}
