import { dirname, resolve } from 'node:path';
import type { Broker } from '../core/broker/broker.js';
import { type AcceptOptions, handshakeTimeoutOf } from '../core/broker/options.js';
import type { ListenerConfig } from '../core/config/listener-schema.js';
import type { AuditSink } from '../core/security/audit.js';
import type { TypedEmitter } from '../core/util/emitter.js';
import type { Logger } from '../core/util/logger.js';
import {
  type SocketListenAddress,
  type SocketListener,
  type SocketListenerLimits,
  type TlsReloadEvent,
  listenSocket,
} from '../transports/net/socket-listener.node.js';
import type { HubEvents } from './events.js';

/** Limits the hub applies per listener on top of the socket's own. */
export interface HubListenerLimits {
  /**
   * Time a client of this listener gets to finish the protocol handshake (HELLO through AUTH),
   * 1..3,600,000 ms; a client that does not is closed with CB_ERR_HANDSHAKE_TIMEOUT.
   * @default the hub's handshakeTimeoutMs (DEFAULT_HANDSHAKE_TIMEOUT_MS)
   */
  handshakeTimeoutMs?: number;
}

/** One extra listener of the hub: TCP, a Unix socket or TLS, each with its own limits. */
export type HubListenerOptions = SocketListenAddress & SocketListenerLimits & HubListenerLimits;

/** Where the listeners report what they do. */
export interface ListenerReporting {
  logger: Logger;
  audit: AuditSink;
  events: TypedEmitter<HubEvents>;
}

/**
 * Binds every listener in order, each handing its connections to the broker with its own
 * handshake timeout. Every listener's options are checked before the first binds; if one cannot
 * bind, those already bound are closed and the error (CB_ERR_ADDRESS_IN_USE,
 * CB_ERR_INVALID_OPTION...) is thrown.
 */
export async function openSocketListeners(
  entries: readonly HubListenerOptions[],
  broker: Broker,
  reporting: ListenerReporting,
): Promise<SocketListener[]> {
  const { logger } = reporting;
  // One frozen object per listener, checked here once: accept() gets it with every connection.
  const acceptOptions = entries.map(
    (entry): AcceptOptions => Object.freeze({ handshakeTimeoutMs: handshakeTimeoutOf(entry, broker.options.handshakeTimeoutMs) }),
  );
  const opened: SocketListener[] = [];
  try {
    for (const [i, { handshakeTimeoutMs: _own, ...entry }] of entries.entries()) {
      const accepting = acceptOptions[i];
      opened.push(
        await listenSocket({
          ...entry,
          onConnection: (transport) => broker.accept(transport, accepting),
          onTlsError: (error, peer) => logger.warn({ peer, error: error.message }, 'TLS handshake failed'),
          onCertificatesReload: (event) => reportReload(event, reporting),
        }),
      );
    }
  } catch (err) {
    await Promise.all(opened.map((l) => l.close()));
    throw err;
  }
  return opened;
}

/** A certificate reload in the log, the audit log and the hub's events. */
function reportReload(event: TlsReloadEvent, { logger, audit, events }: ListenerReporting): void {
  const { listener, fingerprint, serialNumber, error } = event;
  if (error === undefined) {
    logger.info({ listener, fingerprint, serialNumber }, 'TLS certificates reloaded');
    audit.record({
      actor: { app: 'hub' },
      action: 'tls-reload',
      target: listener,
      outcome: 'success',
      details: { fingerprint, serialNumber },
    });
  } else {
    logger.error(
      { listener, code: error.code, error: error.message, fingerprint },
      'TLS certificates not reloaded; the previous ones stay in use',
    );
    audit.record({
      actor: { app: 'hub' },
      action: 'tls-reload',
      target: listener,
      outcome: 'failure',
      reason: `${error.code}: ${error.message}`,
      details: { fingerprint },
    });
  }
  events.emit('tls-reload', event);
}

/**
 * The config file's `listeners` as listener options: certificate paths are relative to the config
 * file (or the working directory for a config given in code); limits left out keep their defaults.
 */
export function configListeners(listeners: readonly ListenerConfig[], configPath: string | undefined): HubListenerOptions[] {
  const base = configPath !== undefined ? dirname(configPath) : process.cwd();
  return listeners.map((l): HubListenerOptions => {
    const limits = Object.fromEntries(
      (['maxConnections', 'keepAliveMs', 'tlsHandshakeTimeoutMs', 'handshakeTimeoutMs'] as const)
        .filter((k) => l[k] !== undefined)
        .map((k) => [k, l[k]]),
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
      ...(l.watchFiles !== undefined ? { watchFiles: l.watchFiles } : {}),
      ...(l.reloadDebounceMs !== undefined ? { reloadDebounceMs: l.reloadDebounceMs } : {}),
      ...limits,
    };
  });
}
