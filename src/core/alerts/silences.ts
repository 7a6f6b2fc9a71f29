/**
 * Silences: an alert whose labels equal every matcher of a silence in force is still evaluated
 * and listed, but not notified. A silence ends at `expiresAt` (and is forgotten then) or when it
 * is removed. Bounded: `maxSilences` in force at once.
 */
import { createError } from '../errors/index.js';
import type { Labels } from '../metrics/metric.js';
import { randomHex } from '../util/random.js';

export interface Silence {
  readonly id: string;
  readonly matchers: Labels;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly createdAt: number;
  /** Who added it: an app, `config`, or the CLI's app. */
  readonly createdBy: string;
  readonly comment: string;
}

export interface NewSilence {
  readonly matchers: Labels;
  readonly expiresAt: number;
  readonly comment?: string;
}

export class Silences {
  readonly #max: number;
  readonly #byId = new Map<string, Silence>();

  constructor(maxSilences: number) {
    this.#max = maxSilences;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Adds a silence; CB_ERR_INVALID_OPTION when it has already expired or the limit is reached. */
  add(s: NewSilence, createdBy: string, now: number): Silence {
    this.prune(now);
    if (s.expiresAt <= now) {
      throw createError('CB_ERR_INVALID_OPTION', 'the silence would already have expired', { details: { expiresAt: s.expiresAt } });
    }
    if (this.#byId.size >= this.#max) {
      throw createError('CB_ERR_INVALID_OPTION', `the hub holds its maximum of ${this.#max} silences: remove one first`, {
        details: { limit: this.#max },
      });
    }
    const silence: Silence = Object.freeze({
      id: randomHex(8),
      matchers: Object.freeze({ ...s.matchers }),
      expiresAt: s.expiresAt,
      createdAt: now,
      createdBy,
      comment: s.comment ?? '',
    });
    this.#byId.set(silence.id, silence);
    return silence;
  }

  /** The removed silence, or undefined when there is none with that id. */
  remove(id: string): Silence | undefined {
    const s = this.#byId.get(id);
    this.#byId.delete(id);
    return s;
  }

  /** The id of a silence in force that matches `labels`, or undefined. */
  silencing(labels: Labels, now: number): string | undefined {
    for (const s of this.#byId.values()) {
      if (s.expiresAt > now && covers(s.matchers, labels)) return s.id;
    }
    return undefined;
  }

  /** Forgets the silences that have expired. */
  prune(now: number): void {
    for (const [id, s] of this.#byId) if (s.expiresAt <= now) this.#byId.delete(id);
  }

  list(now: number): Silence[] {
    this.prune(now);
    return [...this.#byId.values()];
  }
}

function covers(matchers: Labels, labels: Labels): boolean {
  for (const k in matchers) if (labels[k] !== matchers[k]) return false;
  return true;
}
