import { ConnectionError } from '../../core/errors/index.js';
import {
  CLOSE_NORMAL,
  type Transport,
  type TransportCloseInfo,
  type TransportConnector,
  type TransportHandlers,
} from '../../core/transport/transport.js';
import { microtask } from '../../core/util/microtask.js';

/**
 * In-process transport: two linked ends. Chunks are delivered asynchronously (on a microtask),
 * in order, never merged or split, like a real message transport. Used for embedding a hub in
 * the same runtime and as the reference in the transport contract suite.
 */
class MemoryEnd implements Transport {
  readonly kind = 'memory';
  readonly framing = 'message' as const;
  peerEnd: MemoryEnd | undefined;
  private handlers: TransportHandlers | undefined;
  private inbox: Uint8Array[] = [];
  private buffered = 0;
  private scheduled = false;
  private closed = false;
  private closeInfo: TransportCloseInfo | undefined;
  /** Set on the hub end of an in-page connection: the page's own origin (see memoryConnector). */
  vouchedOrigin: string | undefined;

  constructor(readonly peer: string) {}

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
    if (this.inbox.length > 0 || this.closeInfo) this.schedule();
  }

  send(chunk: Uint8Array): void {
    if (this.closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'memory transport is closed');
    const peer = this.peerEnd;
    if (peer === undefined || peer.closed) return;
    this.buffered += chunk.length;
    peer.receive(chunk);
  }

  bufferedAmount(): number {
    return this.buffered;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    const peer = this.peerEnd;
    // Deliver what was already sent before the peer learns of the close, as a socket would.
    if (peer !== undefined) peer.remoteClosed({ local: false, code, reason });
    this.finish({ local: true, code, reason });
  }

  private receive(chunk: Uint8Array): void {
    this.inbox.push(chunk);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.handlers === undefined) return;
    this.scheduled = true;
    microtask(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    const handlers = this.handlers;
    if (handlers === undefined) return;
    const chunks = this.inbox;
    this.inbox = [];
    for (const chunk of chunks) {
      this.peerEnd?.delivered(chunk.length);
      if (this.closeInfo === undefined || !this.closeInfo.local) handlers.message(chunk);
    }
    if (this.closeInfo !== undefined && !this.closeInfo.local) {
      const info = this.closeInfo;
      this.closed = true;
      this.handlers = undefined;
      handlers.close(info);
    }
  }

  private delivered(n: number): void {
    this.buffered -= n;
    if (this.buffered === 0 && !this.closed) this.handlers?.drain?.();
  }

  private remoteClosed(info: TransportCloseInfo): void {
    if (this.closeInfo !== undefined) return;
    this.closeInfo = info;
    this.schedule();
  }

  private finish(info: TransportCloseInfo): void {
    if (this.closeInfo !== undefined && this.handlers === undefined) return;
    this.closeInfo = info;
    const handlers = this.handlers;
    this.handlers = undefined;
    this.inbox = [];
    if (handlers !== undefined) microtask(() => handlers.close(info));
  }
}

/** Two connected in-memory transports. */
export function createMemoryPair(names: [string, string] = ['memory:a', 'memory:b']): [Transport, Transport] {
  const a = new MemoryEnd(names[1]);
  const b = new MemoryEnd(names[0]);
  a.peerEnd = b;
  b.peerEnd = a;
  return [a, b];
}

/** Something that accepts server-side transports: a Broker. */
export interface TransportAcceptor {
  accept(transport: Transport): void;
}

export interface MemoryConnectorOptions {
  /**
   * The origin the hub end vouches for: on a browser hub that identifies apps by origin, the
   * page's own code connects in memory as the page's origin. Only the code that creates the hub
   * can hand this out. @default none
   */
  vouchedOrigin?: string;
}

/** A connector for `connect()` that links the client straight to an in-process broker. */
export function memoryConnector(acceptor: TransportAcceptor, options: MemoryConnectorOptions = {}): TransportConnector {
  return async () => {
    const [client, server] = createMemoryPair(['memory:client', 'memory:hub']);
    if (options.vouchedOrigin !== undefined) (server as MemoryEnd).vouchedOrigin = options.vouchedOrigin;
    acceptor.accept(server);
    return client;
  };
}
