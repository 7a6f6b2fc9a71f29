/**
 * Idempotent publish: the message ids a stream has stored in the last `windowMs`, and the ones
 * being stored right now, so a publisher that retries (after a timeout or a hub restart) gets the
 * original sequence number back instead of a second copy. At most `maxIds` are remembered: a
 * busy stream forgets its oldest ids before their window ends rather than grow without bound
 * (a retry of a forgotten id is stored again); `forgottenEarly` counts them.
 */
export type DuplicateHit = { seq: number } | { pending: Promise<number> };

export class DuplicateWindow {
  /** msgId -> [seq, time]; insertion order is time order, so expiry pops from the front. */
  private readonly stored = new Map<string, [number, number]>();
  private readonly inFlight = new Map<string, Promise<number>>();

  /** Ids dropped because of `maxIds` while still inside the window. */
  forgottenEarly = 0;

  constructor(
    private windowMs: number,
    private readonly maxIds: number = Infinity,
  ) {}

  setWindow(ms: number): void {
    this.windowMs = ms;
  }

  get size(): number {
    return this.stored.size + this.inFlight.size;
  }

  /** The earlier publish of `msgId` inside the window, stored or still being stored. */
  lookup(msgId: string, now: number): DuplicateHit | undefined {
    this.expire(now);
    const hit = this.stored.get(msgId);
    if (hit !== undefined) return { seq: hit[0] };
    const pending = this.inFlight.get(msgId);
    return pending === undefined ? undefined : { pending };
  }

  /** Tracks a publish being stored; the window remembers it once stored, forgets it if it fails. */
  track(msgId: string, stored: Promise<number>, now: () => number): void {
    if (this.windowMs === 0) return;
    this.inFlight.set(msgId, stored);
    stored.then(
      (seq) => {
        this.inFlight.delete(msgId);
        this.remember(msgId, seq, now());
      },
      () => this.inFlight.delete(msgId),
    );
  }

  /** Records a stored message (also used to rebuild the window from the log on start). */
  remember(msgId: string, seq: number, time: number): void {
    if (this.windowMs === 0) return;
    this.stored.delete(msgId);
    this.stored.set(msgId, [seq, time]);
    if (this.stored.size > this.maxIds) {
      // Insertion order is time order: the first entry is the oldest.
      const oldest = this.stored.keys().next().value as string;
      this.stored.delete(oldest);
      this.forgottenEarly++;
    }
  }

  clear(): void {
    this.stored.clear();
  }

  private expire(now: number): void {
    const oldest = now - this.windowMs;
    for (const [id, [, time]] of this.stored) {
      if (time >= oldest) break;
      this.stored.delete(id);
    }
  }
}
