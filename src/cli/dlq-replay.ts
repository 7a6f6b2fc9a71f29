/**
 * The engine of `crossbus dlq replay`: republishes dead letters durably to their original topics
 * (original headers, msgId `dlq-<stream>-<dlq seq>` so that a rerun stores no duplicates), paced
 * below the app's rate limit, with a bounded window of unacknowledged publishes, and tells up to
 * which dead letter everything was stored again: that prefix of the DLQ may be purged. The
 * command around it (commands/streams.ts) reads the pages, draws the progress bar, purges and
 * prints the summary.
 */
import { isCrossbusError } from '../core/errors/index.js';
import type { PublishAck, StreamRecord, StreamsClient } from './commands/streams-api.js';
import { originalHeaders } from './commands/streams-format.js';

/** Dead letters republished and not yet acknowledged, at most. */
export const REPLAY_WINDOW = 100;
/** Times one dead letter is sent again after a CB_ERR_RATE_LIMITED refusal before the replay gives up. */
export const MAX_RATE_LIMITED_RETRIES = 10;
/** The pause after a refusal that names no retryAfterMs. */
const DEFAULT_RETRY_AFTER_MS = 100;
/** The longest pause a refusal may ask for. */
const MAX_RETRY_AFTER_MS = 10_000;
/** Timers are coarse: a slot this close to now is taken without sleeping. */
const SLEEP_THRESHOLD_MS = 4;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * When each send may go: every send takes the next slot, 1000/rate ms after the one before (all
 * at once when the rate is 0). A rate-limit refusal pauses every slot past its retryAfterMs and
 * slows the pace down, once per refused generation of sends. `stop()` ends every wait at once.
 */
export class ReplayPacer {
  #rate: number;
  /** Bumped at each slowdown: refusals of sends made before it do not slow down again. */
  #generation = 0;
  #nextSlot = 0;
  #pauseUntil = 0;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #stop: () => void = () => {};
  readonly #stopped = new Promise<void>((resolve) => (this.#stop = resolve));

  /** `rate`: sends per second at most, 0 = unpaced. */
  constructor(rate: number, now: () => number, sleep: (ms: number) => Promise<void>) {
    this.#rate = rate;
    this.#now = now;
    this.#sleep = sleep;
  }

  /** Sends per second now (lower than asked after refusals). */
  get rate(): number {
    return this.#rate;
  }

  /** Which pace a send goes out under: pass it to `refused` when that send is refused. */
  get generation(): number {
    return this.#generation;
  }

  /** Waits for the next send's slot (or until `stop()`). */
  async wait(): Promise<void> {
    const t = this.#now();
    const at = Math.max(t, this.#nextSlot, this.#pauseUntil);
    if (this.#rate > 0) this.#nextSlot = at + 1000 / this.#rate;
    if (at - t >= SLEEP_THRESHOLD_MS) await Promise.race([this.#sleep(at - t), this.#stopped]);
  }

  /**
   * A send made under `generation` was refused over the rate limit: every slot waits until
   * `retryAfterMs` has passed, and the first refusal of a generation slows the pace down.
   */
  refused(retryAfterMs: unknown, generation: number): void {
    const after = typeof retryAfterMs === 'number' && retryAfterMs > 0 ? retryAfterMs : DEFAULT_RETRY_AFTER_MS;
    this.#pauseUntil = Math.max(this.#pauseUntil, this.#now() + Math.min(after, MAX_RETRY_AFTER_MS));
    if (generation === this.#generation) {
      // The limit lies below the pace: halve it, and stay under what the retry delay suggests.
      this.#rate = Math.max(1, Math.min(this.#rate > 0 ? this.#rate / 2 : Infinity, 800 / after));
      this.#generation++;
    }
  }

  /** Ends every wait, now and later: the replay stopped. */
  stop(): void {
    this.#stop();
  }
}

/**
 * The dead letters published, in order, and the acknowledged ones: `upTo` is the last of the
 * longest prefix all acknowledged (acks arrive in any order), 0 while there is none.
 */
export class AckedPrefix {
  readonly #issued: number[] = [];
  #head = 0;
  readonly #acked = new Set<number>();
  #upTo = 0;

  get upTo(): number {
    return this.#upTo;
  }

  /** `seq` was published (in increasing order). */
  issue(seq: number): void {
    this.#issued.push(seq);
  }

  /** `seq` was acknowledged: the prefix grows over every acknowledged seq that follows it. */
  ack(seq: number): void {
    this.#acked.add(seq);
    while (this.#head < this.#issued.length && this.#acked.has(this.#issued[this.#head] as number)) {
      this.#upTo = this.#issued[this.#head] as number;
      this.#acked.delete(this.#upTo);
      this.#head++;
    }
  }
}

export interface DeadLetterReplayOptions {
  /** The source stream: it names the msgIds (`dlq-<stream>-<dlq seq>`). */
  stream: string;
  /** Dead letters published per second at most; 0 = unpaced. */
  rate: number;
  /** Publishes unacknowledged at once, at most. @default REPLAY_WINDOW */
  window?: number;
  /** @default MAX_RATE_LIMITED_RETRIES */
  maxRateLimitedRetries?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Told the number replayed so far after each acknowledged publish (the progress bar). @default none */
  onReplayed?: (replayed: number) => void;
}

export interface DeadLetterReplayOutcome {
  /** Dead letters acknowledged by the hub. */
  replayed: number;
  /** Of those, already stored (a msgId seen within the stream's duplicate window). */
  duplicates: number;
  /** Every dead letter up to here was stored again (0: none). */
  upTo: number;
  /** CB_ERR_RATE_LIMITED refusals, each sent again later. */
  rateLimited: number;
  /** The pace at the end, in dead letters a second (0: unpaced). */
  rate: number;
  /** What stopped the replay: the earliest dead letter that failed (seq Infinity: reading failed). */
  failure?: { seq: number; error: unknown };
}

/**
 * One replay run. A failure stops it: nothing more is sent, what is in flight is awaited, and
 * the dead letters from the failed one on are kept (they are not in the acknowledged prefix).
 */
export class DeadLetterReplay {
  readonly #client: Pick<StreamsClient, 'publish'>;
  readonly #stream: string;
  readonly #window: number;
  readonly #maxRetries: number;
  readonly #onReplayed: ((replayed: number) => void) | undefined;
  readonly #pacer: ReplayPacer;
  readonly #prefix = new AckedPrefix();
  /** The publishes not yet acknowledged (or failed). */
  readonly #inflight = new Set<Promise<void>>();
  #failure: { seq: number; error: unknown } | undefined;
  #replayed = 0;
  #duplicates = 0;
  #rateLimited = 0;

  constructor(client: Pick<StreamsClient, 'publish'>, options: DeadLetterReplayOptions) {
    this.#client = client;
    this.#stream = options.stream;
    this.#window = options.window ?? REPLAY_WINDOW;
    this.#maxRetries = options.maxRateLimitedRetries ?? MAX_RATE_LIMITED_RETRIES;
    this.#onReplayed = options.onReplayed;
    this.#pacer = new ReplayPacer(options.rate, options.now ?? Date.now, options.sleep ?? realSleep);
  }

  /** Republishes the dead letters of `pages` in order; resolves once every publish settled. */
  async run(pages: AsyncIterable<StreamRecord[]>): Promise<DeadLetterReplayOutcome> {
    try {
      outer: for await (const page of pages) {
        for (const r of page) {
          while (this.#inflight.size >= this.#window && this.#failure === undefined) await Promise.race(this.#inflight);
          if (this.#failure !== undefined) break outer;
          await this.#pacer.wait();
          if (this.#failure !== undefined) break outer;
          this.#prefix.issue(r.seq);
          const p: Promise<void> = this.#send(r)
            .catch((error: unknown) => this.#fail(r.seq, error))
            .finally(() => this.#inflight.delete(p));
          this.#inflight.add(p);
        }
      }
    } catch (error) {
      this.#fail(Number.POSITIVE_INFINITY, error);
    }
    await Promise.all(this.#inflight);
    const outcome: DeadLetterReplayOutcome = {
      replayed: this.#replayed,
      duplicates: this.#duplicates,
      upTo: this.#prefix.upTo,
      rateLimited: this.#rateLimited,
      rate: this.#pacer.rate,
    };
    if (this.#failure !== undefined) outcome.failure = this.#failure;
    return outcome;
  }

  /** Publishes one dead letter; sends it again after rate-limit refusals, up to the retries. */
  async #send(r: StreamRecord): Promise<void> {
    const headers = originalHeaders(r.headers);
    const publishOptions = {
      durable: true as const,
      msgId: `dlq-${this.#stream}-${r.seq}`,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        await this.#pacer.wait();
        if (this.#failure !== undefined) throw this.#failure.error;
      }
      const sentIn = this.#pacer.generation;
      try {
        return this.#acknowledged(r.seq, await this.#client.publish(r.topic, r.data, publishOptions));
      } catch (error) {
        if (!isCrossbusError(error, 'CB_ERR_RATE_LIMITED') || attempt >= this.#maxRetries || this.#failure !== undefined) throw error;
        this.#rateLimited++;
        this.#pacer.refused(error.details?.retryAfterMs, sentIn);
      }
    }
  }

  #acknowledged(seq: number, ack: PublishAck): void {
    this.#replayed++;
    if (ack.duplicate) this.#duplicates++;
    this.#prefix.ack(seq);
    this.#onReplayed?.(this.#replayed);
  }

  /** Keeps the earliest failure and stops every wait. */
  #fail(seq: number, error: unknown): void {
    if (this.#failure === undefined || seq < this.#failure.seq) this.#failure = { seq, error };
    this.#pacer.stop();
  }
}
