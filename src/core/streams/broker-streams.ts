import type { Envelope } from '../protocol/envelope.js';
import type { StreamServiceHost } from './stream-service.js';

/**
 * What the broker asks of durable streams: the seam between routing and storage. The embedded
 * StreamService stores on this hub; a forwarder (a browser hub bridged to a Node hub) hands
 * durable publishes on to another hub; a future JetStream-backed service plugs in here too.
 */
export interface BrokerStreams<S> {
  /** Called once by the broker with what streams may do with its connections. */
  attach(host: StreamServiceHost<S>): void;
  /** Every routed PUBLISH; a durable one (header cb-durable) must be answered with OK or ERROR. */
  capture(s: S, env: Envelope): void;
  /** A STREAM frame: answer it with OK (JSON) or ERROR. */
  onOperation(s: S, env: Envelope): void;
  /** An ACK frame (ack, nak, term, working of a delivery). */
  onAck(s: S, env: Envelope): void;
  /** Is `sid` of `s` a consumer (so UNSUBSCRIBE ends it)? */
  hasMember(s: S, sid: number): boolean;
  leave(s: S, sid: number): void;
  sessionClosed(s: S): void;
  /** The connection's queue drained: held deliveries may go on. */
  drained(s: S): void;
}
