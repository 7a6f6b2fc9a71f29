/**
 * Orders conditional appends (compare-and-set on a topic's last sequence) against every other
 * append of one stream. A conditional append must read its topic's last sequence and append with
 * no other append in between, and against what is stored rather than what is still being
 * written (an append in flight may yet fail). So it waits until every append handed to the
 * storage has settled, checks, and hands its own over; the appends that arrive meanwhile queue
 * behind it in arrival order. While no conditional append waits, appends go straight through:
 * the hot path pays one counter.
 */
import type { AppendResult } from './stream.js';

/** An append handed to the storage: its result comes later (wrapped, so a turn does not wait for it). */
export interface Submitted {
  result: Promise<AppendResult>;
}

export class AppendGate {
  /** Appends handed to the storage and not yet settled. */
  #inflight = 0;
  #onSettled: (() => void)[] = [];
  /** Appends waiting for their turn (a conditional one, or any behind one). */
  #queued = 0;
  #turn: Promise<unknown> = Promise.resolve();

  /** True while nothing waits: an append may go straight to the storage. */
  get open(): boolean {
    return this.#queued === 0;
  }

  /** An append was handed to the storage. */
  started(): void {
    this.#inflight++;
  }

  /** An append handed to the storage was stored or failed. */
  settled(): void {
    if (--this.#inflight > 0 || this.#onSettled.length === 0) return;
    const waiters = this.#onSettled;
    this.#onSettled = [];
    for (const w of waiters) w();
  }

  /** Resolves once no append is in flight. */
  drained(): Promise<void> {
    return this.#inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.#onSettled.push(resolve));
  }

  /**
   * Runs `submit` once every append queued before it was handed to the storage; the next queued
   * one starts when `submit` has handed its own over (or failed).
   */
  enqueue(submit: () => Promise<Submitted> | Submitted): Promise<AppendResult> {
    this.#queued++;
    const turn = this.#turn.then(submit).finally(() => {
      this.#queued--;
    });
    this.#turn = turn.catch(() => {});
    return turn.then((s) => s.result);
  }
}
