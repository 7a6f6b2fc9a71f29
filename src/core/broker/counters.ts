import { Histogram } from '../metrics/histogram.js';

/**
 * Every counter and histogram the hub keeps, in one place. Counters only ever go up (queue
 * depths, which go up and down, are gauges: they live with the queues, see the list below).
 * `Broker.metrics()` describes them all for an exporter (broker-metrics.ts) and `Broker.stats()`
 * reports the same values.
 *
 * Who counts what:
 * - InboundDispatch (inbound.ts): messagesIn, bytesIn (hub and session);
 * - OutboundQueues (outbound-queues.ts): messagesOut, bytesOut (hub and session), dropped,
 *   slowConsumers, and errors (every ERROR frame the hub sends is queued through `sendError`)
 *   (through `countError`, by code), and the batchBytes histogram;
 * - Router (router.ts): noResponders;
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
