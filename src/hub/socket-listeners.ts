import type { Broker } from '../core/broker/broker.js';
import type { Logger } from '../core/util/logger.js';
import {
  type SocketListenAddress,
  type SocketListener,
  type SocketListenerLimits,
  listenSocket,
} from '../transports/net/socket-listener.node.js';

/** One extra listener of the hub: TCP, a Unix socket or TLS, each with its own limits. */
export type HubListenerOptions = SocketListenAddress & SocketListenerLimits;

/**
 * Binds every listener in order, each handing its connections to the broker. If one cannot bind,
 * those already bound are closed and the error (CB_ERR_ADDRESS_IN_USE, CB_ERR_INVALID_OPTION...)
 * is thrown.
 */
export async function openSocketListeners(
  entries: readonly HubListenerOptions[],
  broker: Broker,
  logger: Logger,
): Promise<SocketListener[]> {
  const opened: SocketListener[] = [];
  try {
    for (const entry of entries) {
      opened.push(
        await listenSocket({
          ...entry,
          onConnection: (transport) => broker.accept(transport),
          onTlsError: (error, peer) => logger.warn({ peer, error: error.message }, 'TLS handshake failed'),
        }),
      );
    }
  } catch (err) {
    await Promise.all(opened.map((l) => l.close()));
    throw err;
  }
  return opened;
}
