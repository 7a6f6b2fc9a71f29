/**
 * Watches a hub the client is not connected to: a connection of its own (no reconnects, no
 * subscriptions) with a heartbeat on every tick, reopened on the next tick after it fails. Its
 * failures and round trips go to the hub's `EndpointHealth`, as the main connection's do.
 */
import type { Bus } from '../bus.js';
import type { EndpointHealth } from './endpoint-health.js';
import { heartbeat } from './heartbeat.js';

export class StandbyWatch {
  readonly #open: () => Promise<Bus>;
  readonly #health: EndpointHealth;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #bus: Bus | undefined;
  #busy = false;
  #stopped = false;

  constructor(open: () => Promise<Bus>, health: EndpointHealth, timeoutMs: number, now: () => number) {
    this.#open = open;
    this.#health = health;
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** One heartbeat, or one attempt to connect; nothing while the previous one runs. */
  tick(): void {
    if (this.#stopped || this.#busy) return;
    this.#busy = true;
    const bus = this.#bus;
    const step =
      bus !== undefined && bus.state === 'connected' ? heartbeat(bus, this.#health, this.#timeoutMs, this.#now) : this.#connect();
    void step.finally(() => {
      this.#busy = false;
    });
  }

  async #connect(): Promise<void> {
    this.#bus = undefined;
    let bus: Bus;
    try {
      bus = await this.#open();
    } catch {
      this.#health.fail(this.#now());
      return;
    }
    if (this.#stopped) {
      await bus.close();
      return;
    }
    this.#bus = bus;
    bus.on('closed', () => {
      if (!this.#stopped) this.#health.fail(this.#now());
    });
    // Connected is an answer: the first round trip follows at once.
    await heartbeat(bus, this.#health, this.#timeoutMs, this.#now);
  }

  stop(): void {
    this.#stopped = true;
    const bus = this.#bus;
    this.#bus = undefined;
    void bus?.close();
  }
}
