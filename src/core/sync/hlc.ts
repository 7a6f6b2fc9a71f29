/**
 * Hybrid logical clocks (Kulkarni et al.): a physical time in milliseconds that never goes
 * backwards and moves past every time a replica has seen, plus a counter for events within one
 * millisecond. Replicas whose clocks disagree still order causally related changes correctly,
 * and concurrent ones the same way everywhere.
 *
 * The string form is fixed width, so that comparing two strings compares the clocks:
 * 12 hex digits of milliseconds, 4 of counter, then the replica id, which breaks ties:
 * `018f3a2b4c5d:0000:r-ab12`.
 */
import { ValidationError } from '../errors/index.js';

/** Largest time the 12 hex digits hold (the year 10889). */
const MAX_WALL = 0xffff_ffff_ffff;
const MAX_COUNTER = 0xffff;
const HLC_RE = /^([0-9a-f]{12}):([0-9a-f]{4}):(.+)$/;

export interface HlcParts {
  readonly wall: number;
  readonly counter: number;
  readonly replica: string;
}

/** Replica ids: 1 to 64 letters, digits, `_` or `-` (they go into HLCs, conflict ids and message ids). */
export function replicaIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || !/^[\w-]{1,64}$/.test(id)) return 'a replica id must be 1 to 64 letters, digits, "_" or "-"';
  return undefined;
}

export function formatHlc(wall: number, counter: number, replica: string): string {
  return `${wall.toString(16).padStart(12, '0')}:${counter.toString(16).padStart(4, '0')}:${replica}`;
}

/** The parts of an HLC string, or undefined when it is not one. */
export function parseHlc(hlc: unknown): HlcParts | undefined {
  if (typeof hlc !== 'string') return undefined;
  const m = HLC_RE.exec(hlc);
  if (m === null || replicaIdProblem(m[3]) !== undefined) return undefined;
  return { wall: Number.parseInt(m[1] as string, 16), counter: Number.parseInt(m[2] as string, 16), replica: m[3] as string };
}

/** Orders two HLC strings: negative, zero or positive. */
export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One replica's clock. `clock` is injected (tests skew it); it defaults to `Date.now`. */
/**
 * `hlc` with its wall time at most `ceiling` (ms), its counter and replica kept: a change stamped
 * further ahead of when the hub stored it than the document allows orders as if made then, so one
 * replica with a clock set ahead does not win every last-writer-wins decision until time catches
 * up. An unparsable `hlc` is returned as it is (the change is refused elsewhere).
 */
export function clampHlc(hlc: string, ceiling: number): string {
  const parts = parseHlc(hlc);
  if (parts === undefined || parts.wall <= ceiling) return hlc;
  return formatHlc(Math.max(0, Math.min(Math.floor(ceiling), MAX_WALL)), parts.counter, parts.replica);
}

export class Hlc {
  readonly #replica: string;
  readonly #clock: () => number;
  #wall = 0;
  #counter = 0;

  constructor(replica: string, clock: () => number = Date.now) {
    const problem = replicaIdProblem(replica);
    if (problem !== undefined) throw new ValidationError('CB_ERR_PAYLOAD_INVALID', problem);
    this.#replica = replica;
    this.#clock = clock;
  }

  /** The time of a local event (a change): after every time this clock has given or seen. */
  now(): string {
    const pt = this.#physical();
    if (pt > this.#wall) {
      this.#wall = pt;
      this.#counter = 0;
    } else {
      this.#tick();
    }
    return formatHlc(this.#wall, this.#counter, this.#replica);
  }

  /** Moves past a time seen in a received change. Invalid strings are ignored (the change is refused elsewhere). */
  receive(remote: string): void {
    const r = parseHlc(remote);
    if (r === undefined) return;
    const pt = this.#physical();
    const wall = Math.max(this.#wall, r.wall, pt);
    if (wall === this.#wall && wall === r.wall) this.#counter = Math.max(this.#counter, r.counter);
    else if (wall === r.wall) this.#counter = r.counter;
    else if (wall !== this.#wall) this.#counter = -1;
    this.#wall = wall;
    this.#tick();
  }

  /** The last time given or seen, as a string (for snapshots of a replica's local state). */
  get last(): string {
    return formatHlc(this.#wall, Math.max(this.#counter, 0), this.#replica);
  }

  #physical(): number {
    const t = Math.floor(this.#clock());
    return Number.isFinite(t) ? Math.min(Math.max(t, 0), MAX_WALL) : 0;
  }

  /** One more event in the current millisecond; a full counter moves on to the next millisecond. */
  #tick(): void {
    if (this.#counter >= MAX_COUNTER) {
      this.#wall = Math.min(this.#wall + 1, MAX_WALL);
      this.#counter = 0;
    } else {
      this.#counter++;
    }
  }
}
