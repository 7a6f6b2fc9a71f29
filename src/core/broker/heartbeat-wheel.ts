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
 * bucket is checked per `tickMs`, and each `tickMs` sends at most `maxPingsPerTick` pings (the
 * rest wait for the next tick). Connections opened together have consecutive numbers, so they land in
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
  /** When the wheel last turned, in whole ticks from its first turn; undefined before it. */
  #turnedAt: number | undefined;

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

  /**
   * Turns the wheel: checks the buckets whose time has come (one, unless the timer fired late: a
   * busy hub's timers lag, and a wheel that turned one bucket per late tick would come round too
   * seldom and drop peers it never pinged), then pings at most `maxPingsPerTick` peers.
   */
  tick(): void {
    const now = this.#clock();
    const hb = this.#heartbeatMs;
    let steps = 1;
    if (this.#turnedAt === undefined) this.#turnedAt = now;
    else {
      steps = Math.floor((now - this.#turnedAt) / this.tickMs);
      if (steps < 1) return;
      this.#turnedAt += steps * this.tickMs;
      if (steps > this.slots) {
        steps = this.slots;
        this.#turnedAt = now;
      }
    }
    const due = this.#due;
    for (let i = 0; i < steps; i++) {
      const bucket = this.#buckets[this.#tick++ % this.slots] as Set<S>;
      for (const s of bucket) {
        if (s.state !== 'open') continue;
        const silent = now - s.lastHeardAt;
        if (silent > 2 * hb) this.#actions.lost(s, silent);
        else if (silent > hb) due.add(s);
      }
    }
    // The bound is per tick's worth of time: a late timer catches up on pings as on checks.
    const bound = this.#maxPingsPerTick * steps;
    let sent = 0;
    for (const s of due) {
      if (sent === bound) break;
      due.delete(s);
      this.#actions.ping(s);
      sent++;
    }
  }
}
