/** What the wheel needs of a session: its number (its slot), its state and when it was last heard. */
export interface HeartbeatPeer {
  readonly seq: number;
  readonly state: string;
  readonly lastHeardAt: number;
}

/** What the wheel does to a peer: ping it, or drop it after twice the heartbeat of silence. */
export interface HeartbeatActions<S extends HeartbeatPeer> {
  ping(s: S): void;
  lost(s: S, silentMs: number): void;
}

/**
 * Spreads the hub's heartbeat over time: sessions sit in `slots` buckets by their number, one
 * bucket is checked per tick, and a tick sends at most `maxPingsPerTick` pings (the rest wait
 * for the next tick). Connections opened together have consecutive numbers, so they land in
 * different buckets: checking them all in one tick once stalled the hub with thousands of pings
 * sealed and written at once. Every bucket comes round once per half heartbeat, as the single
 * sweep it replaces did: a peer is pinged after `heartbeatMs` of silence and dropped after twice it.
 */
export class HeartbeatWheel<S extends HeartbeatPeer> {
  readonly slots: number;
  readonly tickMs: number;
  readonly #buckets: Set<S>[];
  readonly #heartbeatMs: number;
  readonly #maxPingsPerTick: number;
  readonly #actions: HeartbeatActions<S>;
  readonly #clock: () => number;
  /** Peers found silent and not pinged yet because a tick reached its bound, oldest first. */
  readonly #due = new Set<S>();
  #tick = 0;

  constructor(heartbeatMs: number, tickMs: number, maxPingsPerTick: number, actions: HeartbeatActions<S>, clock: () => number = Date.now) {
    this.#heartbeatMs = heartbeatMs;
    this.#maxPingsPerTick = Math.max(1, maxPingsPerTick);
    this.#actions = actions;
    this.#clock = clock;
    const period = Math.max(1, Math.floor(heartbeatMs / 2));
    this.slots = Math.max(1, Math.floor(period / Math.max(1, tickMs)));
    this.tickMs = Math.max(1, Math.floor(period / this.slots));
    this.#buckets = Array.from({ length: this.slots }, () => new Set<S>());
  }

  /** Peers on the wheel. */
  get size(): number {
    let n = 0;
    for (const b of this.#buckets) n += b.size;
    return n;
  }

  add(s: S): void {
    this.#buckets[s.seq % this.slots]?.add(s);
  }

  delete(s: S): void {
    this.#buckets[s.seq % this.slots]?.delete(s);
    this.#due.delete(s);
  }

  /** One step of the wheel: checks the next bucket, then pings at most `maxPingsPerTick` peers. */
  tick(): void {
    const now = this.#clock();
    const hb = this.#heartbeatMs;
    const bucket = this.#buckets[this.#tick++ % this.slots] as Set<S>;
    const due = this.#due;
    for (const s of bucket) {
      if (s.state !== 'open') continue;
      const silent = now - s.lastHeardAt;
      if (silent > 2 * hb) this.#actions.lost(s, silent);
      else if (silent > hb) due.add(s);
    }
    let sent = 0;
    for (const s of due) {
      if (sent === this.#maxPingsPerTick) break;
      due.delete(s);
      this.#actions.ping(s);
      sent++;
    }
  }
}
