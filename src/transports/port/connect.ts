/**
 * Connecting over ports: a client asks a hub for a channel by posting `{ crossbus: 'connect', port }`
 * (the port transferred) to something the hub listens on — a Worker, a worker's global scope,
 * Node's parentPort — and the hub accepts the port as a new connection. Each connect makes a fresh
 * MessageChannel, so the Bus can reconnect by calling the connector again.
 */
import type { Transport, TransportConnector } from '../../core/transport/transport.js';
import { isPortRequest, newChannel, onPortMessages } from './channel.js';
import { createPortTransport, type PortLike, type PortTransportInfo } from './port-transport.js';

export const CONNECT_REQUEST = 'connect';

export interface ConnectRequest {
  crossbus: typeof CONNECT_REQUEST;
  port: PortLike;
}

const isConnectRequest = (d: unknown): d is ConnectRequest => isPortRequest(d, CONNECT_REQUEST);

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
  return onPortMessages(target, accept, 'listenPorts');
}
