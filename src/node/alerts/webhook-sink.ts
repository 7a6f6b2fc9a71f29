/**
 * Alert notifications POSTed as JSON to a webhook (Alertmanager's receivers, a chat bridge, an
 * incident tool). `notify` only queues: one POST is in flight at a time, each cut off after
 * `timeoutMs`, a failed one tried again `retries` times with a doubling pause, and the queue holds
 * `maxQueue` notifications (the oldest dropped and counted beyond), so a target that hangs or
 * refuses never delays an evaluation and never grows memory. The URL may carry a token: only its
 * origin is ever logged.
 */
import type { AlertNotification, AlertSink } from '../../core/alerts/alert-service.js';
import type { WebhookConfig } from '../../core/alerts/alert-schema.js';
import { labelled, type Metric, type MetricsSource } from '../../core/metrics/metric.js';
import type { Logger } from '../../core/util/logger.js';
import { silentLogger } from '../../core/util/logger.js';
import { VERSION } from '../version.js';

export class WebhookAlertSink implements AlertSink, MetricsSource {
  readonly name = 'webhook';
  readonly #config: WebhookConfig;
  readonly #logger: Logger;
  /** What the logs name: the URL's origin, never its path or query (a token may be there). */
  readonly #where: string;
  readonly #queue: AlertNotification[] = [];
  #sending = false;
  #closed = false;
  #abort: AbortController | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #wakeRetry: (() => void) | undefined;
  readonly #counts = { sent: 0, failed: 0, dropped: 0, retried: 0 };

  constructor(config: WebhookConfig, logger: Logger = silentLogger) {
    this.#config = config;
    this.#logger = logger;
    this.#where = new URL(config.url).origin;
  }

  /** Notifications waiting (not counting the one in flight). */
  get queued(): number {
    return this.#queue.length;
  }

  notify(n: AlertNotification): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#config.maxQueue) {
      this.#queue.shift();
      this.#counts.dropped++;
      this.#logger.warn(
        { webhook: this.#where, maxQueue: this.#config.maxQueue },
        'alerts: webhook queue full, oldest notification dropped',
      );
    }
    this.#queue.push(n);
    if (!this.#sending) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    try {
      while (!this.#closed) {
        const n = this.#queue.shift();
        if (n === undefined) break;
        await this.#deliver(n);
      }
    } finally {
      this.#sending = false;
    }
  }

  async #deliver(n: AlertNotification): Promise<void> {
    const body = JSON.stringify({ version: '1', source: 'crossbus', ...n });
    const c = this.#config;
    for (let attempt = 0; attempt <= c.retries && !this.#closed; attempt++) {
      if (attempt > 0) {
        this.#counts.retried++;
        await this.#pause(c.retryDelayMs * 2 ** (attempt - 1));
        if (this.#closed) return;
      }
      const abort = (this.#abort = new AbortController());
      const timer = setTimeout(() => abort.abort(), c.timeoutMs);
      try {
        const res = await fetch(c.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': `crossbus/${VERSION}` },
          body,
          signal: abort.signal,
        });
        // The body is not needed; reading it frees the connection.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.#counts.sent++;
          return;
        }
        this.#logger.warn({ webhook: this.#where, status: res.status, attempt }, 'alerts: webhook refused a notification');
      } catch (err) {
        const timedOut = abort.signal.aborted && !this.#closed;
        this.#logger.warn(
          { webhook: this.#where, attempt, error: timedOut ? `no answer within ${c.timeoutMs} ms` : errorText(err) },
          'alerts: webhook notification failed',
        );
      } finally {
        clearTimeout(timer);
        this.#abort = undefined;
      }
    }
    if (!this.#closed) this.#counts.failed++;
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeRetry = resolve;
      this.#retryTimer = setTimeout(resolve, ms);
      this.#retryTimer.unref?.();
    });
  }

  /** Stops: the POST in flight is aborted, the queue dropped. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#abort?.abort();
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
  }

  metrics(): readonly Metric[] {
    return [
      labelled(
        'counter',
        'crossbus_alert_webhook_notifications_total',
        'alert notifications for the webhook, by outcome (sent, failed after its retries, dropped from a full queue, retried)',
        ['outcome'],
        () => Object.entries(this.#counts).map(([outcome, value]) => ({ labels: { outcome }, value })),
      ),
    ];
  }
}

/** The error's message without a URL in it (fetch's messages may quote it). */
function errorText(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } })?.cause?.code;
  if (typeof cause === 'string') return cause;
  return err instanceof Error ? err.name : 'failed';
}
