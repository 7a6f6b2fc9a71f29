/**
 * Every counter the hub keeps, in one place. They only ever go up (queue depths, which go up and
 * down, are not counters: they live with the queues, see the list below). `Broker.stats()`
 * reports them all; a metrics exporter reads them here.
 *
 * Who counts what:
 * - InboundDispatch (inbound.ts): messagesIn, bytesIn (hub and session);
 * - OutboundQueues (outbound-queues.ts): messagesOut, bytesOut (hub and session), dropped,
 *   slowConsumers, and errors (every ERROR frame the hub sends is queued through `sendError`);
 * - Router (router.ts): noResponders;
 * - Broker.accept: errors, for a connection refused before it had a session.
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
  /** Bytes received from transports (frames, or records on a secure hub). */
  bytesIn = 0;
  /** Bytes handed to transports. */
  bytesOut = 0;
  /** ERROR frames sent: refusals, failures, slow-consumer notices. */
  errors = 0;
  /** Messages not delivered because a queue or the hub-wide bound was full. */
  dropped = 0;
  /** Slow-consumer episodes: a disconnect, or the start of a 'drop' episode. */
  slowConsumers = 0;
  /** Requests nobody subscribed to. */
  noResponders = 0;
}

/** The same counters for one connection (part of its Session; see HubCounters for who counts). */
export class SessionCounters {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
}
