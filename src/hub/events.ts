import type { TlsReloadEvent } from '../transports/net/tls-reload.node.js';

/** Typed events of the hub itself (the broker's own are `hub.broker.events`). */
export interface HubEvents {
  /**
   * A TLS listener loaded its changed certificate files, or failed to (`outcome: 'failed'`,
   * `error` CB_ERR_TLS) and goes on serving the previous certificate.
   */
  'tls-reload': TlsReloadEvent;
}
