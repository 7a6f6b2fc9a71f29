import { Histogram } from '../metrics/histogram.js';

/**
 * Every counter and histogram the hub keeps, in one place. Counters only ever go up (queue
 * depths, which go up and down, are gauges: they live with the queues, see the list below).
 * `Broker.metrics()` describes them all for an exporter (broker-metrics.ts) and `Broker.stats()`
 * reports the same values.
 *
 * Who counts what:
 * - InboundDispatch (inbound.ts): messagesIn, bytesIn (hub and session), receivedAt;
 * - OutboundQueues (outbound-queues.ts): messagesOut, bytesOut (hub and session), dropped,
 *   slowConsumers, and errors (every ERROR frame the hub sends is queued through `sendError`)
 *   (through `countError`, by code), the batchBytes and deliveryLatencySeconds histograms;
 * - Router (router.ts): noResponders, the requestSeconds histogram;
 * - AccessGate (access-gate.ts): rateLimited;
 * - SessionTable (session-table.ts): handshakes, handshakeFailures, the handshakeSeconds histogram;
 * - Broker: errors for a connection refused before it had a session, and securityEvents (from
 *   the access gate's 'security' events).
 *
 * Gauges, read where they live: bytes queued per session (`session.queue.out.length`) and for the
 * whole hub (`OutboundQueues.queuedBytes`), frames queued per session (`session.queue.queuedMessages`),
 * bytes the transport holds (`session.transport.bufferedAmount()`), subscriptions per session
 * (`session.routing.subscriptions.size`) and for the hub (`Router.size`), open connections
 * (`SessionTable.size`). Refusals are ERROR frames (counted in `errors`); the access gate also
 * reports each one as a 'security' event.
 */

/** Latency buckets in seconds, from 50 µs (a hub in the same process) to 10 s (a backlog). */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Totals for the whole hub since it started. */
export class HubCounters {
  /** PUBLISH, REQUEST and REPLY frames received. */
  messagesIn = 0;
  /** MESSAGE frames queued for connections (routed messages and stream deliveries). */
  messagesOut = 0;
  /** Bytes of frames received (on a secure hub: the frames records carried, before their record overhead). */
  bytesIn = 0;
  /** Bytes of frames handed to transports (on a secure hub: before they are sealed into records). */
  bytesOut = 0;
  /** ERROR frames sent: refusals, failures, slow-consumer notices. */
  errors = 0;
  /** Messages not delivered because a queue or the hub-wide bound was full. */
  dropped = 0;
  /** Slow-consumer episodes: a disconnect, or the start of a 'drop' episode. */
  slowConsumers = 0;
  /** Requests nobody subscribed to. */
  noResponders = 0;
  /** `errors`, by error code. */
  readonly errorsByCode = new Map<string, number>();
  /** Handshakes that ended with the session open. */
  handshakes = 0;
  /** Handshakes that ended with the session failed (refused, timed out, broken). */
  handshakeFailures = 0;
  /** Security decisions the access gate recorded, by `action outcome` (e.g. 'publish denied'). */
  readonly securityEvents = new Map<string, number>();
  /** Seconds from accepting a transport to the session being open. */
  readonly handshakeSeconds = new Histogram([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  /** Bytes in each write handed to a transport (a batch of frames). */
  readonly batchBytes = new Histogram([64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576]);
  /**
   * Seconds from the hub reading the chunk that carried a routed message to the batch holding it
   * being handed to the recipient's transport: one observation per batch, for its oldest message.
   */
  readonly deliveryLatencySeconds = new Histogram(LATENCY_BUCKETS);
  /** Seconds from the hub reading a request to it reading the request's first reply. */
  readonly requestSeconds = new Histogram(LATENCY_BUCKETS);
  /** Messages refused by a rate limit, by `app scope` (the app as a metric label: see appLabel). */
  readonly rateLimited = new Map<string, number>();
  /**
   * `performance.now()` when the hub read the chunk being dispatched now (one clock read per chunk);
   * 0 outside a dispatch, so a message routed later (after consent, a system reply) is not timed.
   */
  receivedAt = 0;

  countRateLimited(app: string, scope: string): void {
    const key = `${app} ${scope}`;
    this.rateLimited.set(key, (this.rateLimited.get(key) ?? 0) + 1);
  }

  countError(code: string): void {
    this.errors++;
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }
}

/** The same counters for one connection (part of its Session; see HubCounters for who counts). */
export class SessionCounters {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
}
