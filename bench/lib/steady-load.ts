/**
 * A steady, bounded request load on one topic: `concurrency` loops, each sending a request and,
 * once it is answered (or failed), the next one, until stopped, until `durationMs` has passed or
 * until `maxRequests` were sent. Counts requests answered and failed (by error code, the first
 * few failures kept with their message) and reports requests served per second over the window:
 * from start() until stop() was called or the duration ended.
 *
 * ```ts
 * const load = startSteadyLoad({ bus, topic: 'orders.get' });
 * await somethingDisruptive();
 * const tally = await load.stop(); // { ok, failed, servedPerSecond, ... }
 * ```
 *
 * A loop whose request failed pauses `failurePauseMs` before its next one, as a client retrying
 * would: a topic nobody serves answers NO_RESPONDERS at once, and loops spinning on that would
 * take the CPU from the instances starting to serve it. A request counts when it settles inside
 * the window; those in flight when the window ends are awaited (at most `concurrency`, each
 * bounded by its timeout) but not counted.
 */
import { performance } from 'node:perf_hooks';

/** What the load needs of a crossbus Bus. */
export interface Requester {
  request(topic: string, data?: unknown, options?: { timeoutMs?: number }): Promise<unknown>;
}

export interface SteadyLoadOptions {
  readonly bus: Requester;
  readonly topic: string;
  /** The request's payload. @default null */
  readonly data?: unknown;
  /** Loops sending back to back. @default 8 */
  readonly concurrency?: number;
  /** Each request's timeout, in ms. @default 2000 */
  readonly timeoutMs?: number;
  /** The window ends by itself after this long, in ms. @default 120000 */
  readonly durationMs?: number;
  /** No more requests are sent after this many. @default 10000000 */
  readonly maxRequests?: number;
  /** A loop whose request failed waits this long before its next one, in ms. @default 10 */
  readonly failurePauseMs?: number;
  /** Failures kept with their message (the first ones). @default 5 */
  readonly keepFailures?: number;
  /** Called with every answer inside the window (e.g. to count answers by version). @default none */
  readonly onReply?: (data: unknown) => void;
}

export interface LoadTally {
  /** Requests answered within the window. */
  readonly ok: number;
  /** Requests failed within the window (timeouts, NO_RESPONDERS, handler errors). */
  readonly failed: number;
  /** Failed requests by error code (`Error` without a code: its name). */
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** The first `keepFailures` failures, as `CODE: message`. */
  readonly firstFailures: readonly string[];
  /** The window, in seconds. */
  readonly seconds: number;
  /** ok / seconds. */
  readonly servedPerSecond: number;
  /** The window ended because `maxRequests` were sent (the rate is then over a shorter window than asked). */
  readonly hitMaxRequests: boolean;
}

export interface SteadyLoad {
  /** The counts so far, without stopping. */
  tally(): LoadTally;
  /** Ends the window (if still open), waits for the requests in flight, and resolves with the tally. */
  stop(): Promise<LoadTally>;
  /** Resolves with the tally once the window ended by itself or by stop(), and every loop is done. */
  readonly done: Promise<LoadTally>;
}

function failureCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (err instanceof Error) return err.name;
  }
  return 'unknown';
}

export function startSteadyLoad(options: SteadyLoadOptions): SteadyLoad {
  const { bus, topic } = options;
  const data = options.data ?? null;
  const concurrency = options.concurrency ?? 8;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const durationMs = options.durationMs ?? 120_000;
  const maxRequests = options.maxRequests ?? 10_000_000;
  const failurePauseMs = options.failurePauseMs ?? 10;
  const keepFailures = options.keepFailures ?? 5;
  const onReply = options.onReply;
  if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new RangeError(`steady load: concurrency must be a positive integer`);
  if (!(durationMs > 0 && timeoutMs > 0 && maxRequests > 0))
    throw new RangeError('steady load: durationMs, timeoutMs and maxRequests must be positive');

  const startedAt = performance.now();
  let endedAt: number | undefined;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let hitMax = false;
  const byCode: Record<string, number> = {};
  const first: string[] = [];

  const open = (): boolean => endedAt === undefined;
  const end = (): void => {
    endedAt ??= performance.now();
    clearTimeout(timer);
  };
  const timer = setTimeout(end, durationMs);

  const loop = async (): Promise<void> => {
    while (open()) {
      if (sent >= maxRequests) {
        hitMax = true;
        end();
        return;
      }
      sent++;
      try {
        const reply = await bus.request(topic, data, { timeoutMs });
        if (!open()) return;
        ok++;
        onReply?.(reply);
      } catch (err) {
        if (!open()) return;
        failed++;
        const code = failureCode(err);
        byCode[code] = (byCode[code] ?? 0) + 1;
        if (first.length < keepFailures) first.push(`${code}: ${err instanceof Error ? err.message : String(err)}`);
        if (failurePauseMs > 0) await new Promise((resolve) => setTimeout(resolve, failurePauseMs));
      }
    }
  };

  const tally = (): LoadTally => {
    const seconds = ((endedAt ?? performance.now()) - startedAt) / 1000;
    return {
      ok,
      failed,
      failuresByCode: { ...byCode },
      firstFailures: [...first],
      seconds,
      servedPerSecond: seconds > 0 ? ok / seconds : 0,
      hitMaxRequests: hitMax,
    };
  };
  const loops = Array.from({ length: concurrency }, loop);
  const done = Promise.all(loops).then(tally);
  return {
    tally,
    stop() {
      end();
      return done;
    },
    done,
  };
}
