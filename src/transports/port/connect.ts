/**
 * Connecting over ports: a client asks a hub for a channel by posting `{ crossbus: 'connect', port }`
 * (the port transferred) to something the hub listens on — a Worker, a worker's global scope,
 * Node's parentPort — and the hub accepts the port as a new connection. Each connect makes a fresh
 * MessageChannel, so the Bus can reconnect by calling the connector again.
 */
import { createError } from '../../core/errors/index.js';
import type { Transport, TransportConnector } from '../../core/transport/transport.js';
import { createPortTransport, type PortLike, type PortTransportInfo } from './port-transport.js';

export const CONNECT_REQUEST = 'connect';

export interface ConnectRequest {
  crossbus: typeof CONNECT_REQUEST;
  port: PortLike;
}

function isConnectRequest(d: unknown): d is ConnectRequest {
  if (typeof d !== 'object' || d === null) return false;
  const o = d as Record<string, unknown>;
  const port = o.port as PortLike | undefined;
  return o.crossbus === CONNECT_REQUEST && typeof port === 'object' && port !== null && typeof port.postMessage === 'function';
}

interface ChannelLike {
  port1: PortLike;
  port2: PortLike;
}

function newChannel(): ChannelLike {
  const MC = (globalThis as { MessageChannel?: new () => ChannelLike }).MessageChannel;
  if (MC === undefined) throw createError('CB_ERR_CONNECTION_FAILED', 'this runtime has no MessageChannel');
  return new MC();
}

/** Client side: connects through `target` (a Worker, a worker scope, Node's parentPort). */
export function workerConnector(target: PortLike, info: PortTransportInfo = {}): TransportConnector {
  return async () => {
    const { port1, port2 } = newChannel();
    target.postMessage({ crossbus: CONNECT_REQUEST, port: port2 } satisfies ConnectRequest, [port2]);
    return createPortTransport(port1, { kind: 'port', peer: 'worker-hub', ...info });
  };
}

/**
 * Hub side: accepts every `{ crossbus: 'connect', port }` posted to `target` as a connection.
 * Other messages are left to other listeners. Returns a function that stops listening.
 */
export function listenPorts(target: PortLike, onConnection: (t: Transport) => void, info: PortTransportInfo = {}): () => void {
  let n = 0;
  const accept = (data: unknown): void => {
    if (!isConnectRequest(data)) return;
    onConnection(createPortTransport(data.port, { kind: 'port', ...info, peer: `${info.peer ?? 'port'}#${++n}` }));
  };
  const onEvent = (ev: { data?: unknown }): void => accept(ev.data);
  if (typeof target.addEventListener === 'function') {
    target.addEventListener('message', onEvent);
    target.start?.();
    return () => target.removeEventListener?.('message', onEvent);
  }
  if (typeof target.on === 'function') {
    target.on('message', accept);
    return () => target.off?.('message', accept);
  }
  throw new TypeError('listenPorts needs a target with addEventListener or on');
}
