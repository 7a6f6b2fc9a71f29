import { dirname, resolve } from 'node:path';
import type { Broker } from '../core/broker/broker.js';
import type { ListenerConfig } from '../core/config/listener-schema.js';
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

/**
 * The config file's `listeners` as listener options: certificate paths are relative to the config
 * file (or the working directory for a config given in code); limits left out keep their defaults.
 */
export function configListeners(listeners: readonly ListenerConfig[], configPath: string | undefined): HubListenerOptions[] {
  const base = configPath !== undefined ? dirname(configPath) : process.cwd();
  return listeners.map((l): HubListenerOptions => {
    const limits = Object.fromEntries(
      (['maxConnections', 'keepAliveMs', 'tlsHandshakeTimeoutMs'] as const).filter((k) => l[k] !== undefined).map((k) => [k, l[k]]),
    );
    if (l.kind === 'tcp') return { kind: 'tcp', host: l.host, port: l.port, ...limits };
    if (l.kind === 'unix') return { kind: 'unix', path: resolve(base, l.path), ...limits };
    return {
      kind: 'tls',
      host: l.host,
      port: l.port,
      cert: { file: resolve(base, l.certFile) },
      key: { file: resolve(base, l.keyFile) },
      ...(l.caFile !== undefined ? { ca: { file: resolve(base, l.caFile) } } : {}),
      requestClientCertificates: l.requestClientCertificates,
      ...limits,
    };
  });
}
