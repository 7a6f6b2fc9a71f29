/**
 * Connecting over shared memory: the client makes a buffer (createShmBuffer) and a MessageChannel,
 * and posts `{ crossbus: 'connect-shm', buffer, port }` (the port transferred, the buffer shared)
 * to something the hub listens on — a Worker, a worker's global scope, Node's parentPort — as
 * `workerConnector` does for ports. From then on the bytes travel through the buffer; the port
 * only tells each end when the other is gone (and carries wake-ups where Atomics.waitAsync is
 * missing). Runtime-neutral: it needs SharedArrayBuffer, which a browser gives only to a
 * cross-origin isolated page and its workers.
 */
import { isCrossbusError } from '../../core/errors/index.js';
import type { Transport, TransportConnector } from '../../core/transport/transport.js';
import { DEFAULT_SHM_RING_BYTES } from '../defaults.js';
import type { PortLike } from '../port/port-transport.js';
import { isPortRequest, newChannel, onPortMessages } from '../port/channel.js';
import { createShmBuffer } from './layout.js';
import { createShmTransport, type ShmTransportOptions } from './shm-transport.js';

export const SHM_CONNECT_REQUEST = 'connect-shm';

export interface ShmConnectRequest {
  crossbus: typeof SHM_CONNECT_REQUEST;
  buffer: SharedArrayBuffer;
  port: PortLike;
}

export interface ShmConnectorOptions extends Omit<ShmTransportOptions, 'port'> {
  /** Bytes in each ring (a power of two, 1 KiB to 1 GiB). @default 262144 */
  ringBytes?: number;
}

export type ShmListenOptions = Omit<ShmTransportOptions, 'port'>;

const isShmConnectRequest = (d: unknown): d is ShmConnectRequest => isPortRequest(d, SHM_CONNECT_REQUEST);

/** Client side: connects over shared memory through `target` (a Worker, a worker scope, Node's parentPort). */
export function shmConnector(target: PortLike, options: ShmConnectorOptions = {}): TransportConnector {
  const { ringBytes = DEFAULT_SHM_RING_BYTES, ...transport } = options;
  return async () => {
    const buffer = createShmBuffer(ringBytes);
    const { port1, port2 } = newChannel();
    target.postMessage({ crossbus: SHM_CONNECT_REQUEST, buffer, port: port2 } satisfies ShmConnectRequest, [port2]);
    return createShmTransport(buffer, 0, { peer: 'shm-hub', ...transport, port: port1 });
  };
}

/**
 * Hub side: accepts every `{ crossbus: 'connect-shm', buffer, port }` posted to `target` as a
 * connection. A buffer that is not one of ours is refused by closing its port (the client sees
 * CB_ERR_CONNECTION_LOST); other messages are left to other listeners (`listenPorts` may listen
 * on the same target). Returns a function that stops listening.
 */
export function listenShm(target: PortLike, onConnection: (t: Transport) => void, options: ShmListenOptions = {}): () => void {
  let n = 0;
  const accept = (data: unknown): void => {
    if (!isShmConnectRequest(data)) return;
    let transport: Transport;
    try {
      transport = createShmTransport(data.buffer, 1, { ...options, peer: `${options.peer ?? 'shm'}#${++n}`, port: data.port });
    } catch (err) {
      if (!isCrossbusError(err)) throw err;
      data.port.close?.();
      return;
    }
    onConnection(transport);
  };
  return onPortMessages(target, accept, 'listenShm');
}
