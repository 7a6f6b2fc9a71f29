/**
 * The health of one hub endpoint as a small state machine fed by heartbeats. Time is passed in
 * (`now` in ms), never read here, so the machine runs the same on a test's clock.
 *
 *   probing  ── answer ─────────────▶ healthy / degraded (by latency)
 *   healthy  ── one missed beat, or latency above the bound ─▶ degraded
 *   any      ── `maxMissed` beats missed in a row, or the connection failed ─▶ down
 *   down     ── answer ─▶ probing ── answering for `recoveryMs` without a miss ─▶ healthy
 *
 * The way back from down goes through probing on purpose (hysteresis): a hub that flaps must
 * stay up a while before clients return to it.
 */
import { LatencyStats } from './latency-stats.js';

export type EndpointState = 'probing' | 'healthy' | 'degraded' | 'down';

export interface HealthPolicy {
  /** Consecutive missed heartbeats that make an endpoint down. */
  readonly maxMissed: number;
  /** How long a recovered endpoint answers without a miss before it is healthy again (ms). */
  readonly recoveryMs: number;
  /** A latency average above this (ms) makes an answering endpoint degraded. */
  readonly degradedRttMs: number;
  /** Weight of a new sample in the average. */
  readonly ewmaAlpha: number;
  /** Samples kept for the percentiles. */
  readonly windowSize: number;
}

/** Why an endpoint changed state. */
export type HealthCause = 'answer' | 'missed' | 'failed' | 'slow' | 'recovered';

export type HealthListener = (from: EndpointState, to: EndpointState, cause: HealthCause) => void;

export class EndpointHealth {
  readonly latency: LatencyStats;
  readonly #policy: HealthPolicy;
  readonly #onChange: HealthListener;
  #state: EndpointState = 'probing';
  /** True once the endpoint has been down: only then does probing wait out `recoveryMs`. */
  #wasDown = false;
  #missed = 0;
  /** When the current run of answers without a miss began; NaN when none is running. */
  #answeringSince = Number.NaN;
  /** When the state last changed. */
  #changedAt: number;
  /** Heartbeats missed since creation (a metric). */
  missedTotal = 0;

  constructor(policy: HealthPolicy, now: number, onChange: HealthListener = () => {}) {
    this.#policy = policy;
    this.#onChange = onChange;
    this.#changedAt = now;
    this.latency = new LatencyStats(policy.ewmaAlpha, policy.windowSize);
  }

  get state(): EndpointState {
    return this.#state;
  }

  /** True once it has been down: its way back goes through probing for `recoveryMs`. */
  get wasDown(): boolean {
    return this.#wasDown;
  }

  /** Missed heartbeats in a row. */
  get missed(): number {
    return this.#missed;
  }

  /** When the state last changed (ms, on the clock the caller passes). */
  get changedAt(): number {
    return this.#changedAt;
  }

  /** A heartbeat answered after `rttMs`. */
  answer(rttMs: number, now: number): void {
    this.latency.add(rttMs);
    if (this.#state === 'down' || Number.isNaN(this.#answeringSince)) this.#answeringSince = now;
    this.#missed = 0;
    if (this.#state === 'down') {
      this.#move('probing', 'answer', now);
      return;
    }
    if (this.#state === 'probing' && this.#wasDown && now - this.#answeringSince < this.#policy.recoveryMs) return;
    const slow = this.latency.ewma > this.#policy.degradedRttMs;
    const cause: HealthCause = this.#state === 'probing' ? (this.#wasDown ? 'recovered' : 'answer') : slow ? 'slow' : 'answer';
    this.#move(slow ? 'degraded' : 'healthy', cause, now);
  }

  /** A heartbeat went unanswered within its interval. */
  miss(now: number): void {
    this.#missed++;
    this.missedTotal++;
    this.#answeringSince = Number.NaN;
    if (this.#missed >= this.#policy.maxMissed) this.#down('missed', now);
    else if (this.#state === 'healthy') this.#move('degraded', 'missed', now);
  }

  /** The connection failed, closed or was refused: down at once. */
  fail(now: number): void {
    this.#answeringSince = Number.NaN;
    this.#down('failed', now);
  }

  #down(cause: HealthCause, now: number): void {
    this.#wasDown = true;
    this.#move('down', cause, now);
  }

  #move(to: EndpointState, cause: HealthCause, now: number): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#changedAt = now;
    this.#onChange(from, to, cause);
  }
}
