/**
 * A frame's or popup's side of the window handshake: posts `connect` to the hub's window (the
 * parent, the opener) addressed to the hub's exact origin — never '*' — and takes the channel
 * only from an `accept` that comes from that very window object, from that origin, with the
 * nonce it sent. Anything else (another frame's forged answer, another origin) is dropped.
 */
import { ConnectionError, createError } from '../../core/errors/index.js';
import { normalizeOrigin } from '../../core/security/origins.js';
import { randomHex } from '../../core/util/random.js';
import { CLOSE_GOING_AWAY, type Transport, type TransportConnector } from '../../core/transport/transport.js';
import { createPortTransport, type PortLike } from '../port/port-transport.js';
import { HANDSHAKE_TAG, parseHandshake, type ConnectMessage } from './messages.js';
import type { EventSourceLike, MessageEventLike, WindowLike } from './window-types.js';
import { DEFAULT_WINDOW_CONNECT_TIMEOUT_MS } from '../defaults.js';

export interface WindowConnectorOptions {
  /** The hub's window: `window.parent`, `window.opener`, or an iframe's `contentWindow`. */
  target: WindowLike;
  /**
   * The hub page's origin, e.g. 'http://localhost:7071'; normalized as browsers report origins
   * (`HTTP://LocalHost:80` is `http://localhost`), never `*` or `null`.
   */
  hubOrigin: string;
  /** @default DEFAULT_WINDOW_CONNECT_TIMEOUT_MS */
  timeoutMs?: number;
  /** Where the answer arrives, and whose pagehide closes the channel. @default globalThis */
  self?: EventSourceLike;
  /** Makes the nonce (tests). @default 16 random bytes, hex */
  createNonce?: () => string;
}

export function windowConnector(options: WindowConnectorOptions): TransportConnector {
  // Normalized, because the hub's answer is compared exactly with the `event.origin` the browser reports.
  const hubOrigin = normalizeOrigin(options.hubOrigin);
  if (hubOrigin === undefined || hubOrigin === 'null') {
    throw createError(
      'CB_ERR_INVALID_OPTION',
      `hubOrigin ${JSON.stringify(options.hubOrigin)} must be one exact origin: scheme://host[:port], no path, not "*" or "null"`,
      { details: { option: 'hubOrigin' } },
    );
  }
  const self = options.self ?? (globalThis as unknown as EventSourceLike);
  const timeoutMs = options.timeoutMs ?? DEFAULT_WINDOW_CONNECT_TIMEOUT_MS;
  return (signal?: AbortSignal) =>
    new Promise<Transport>((resolve, reject) => {
      const nonce = options.createNonce?.() ?? randomHex(16);
      const done = (): void => {
        clearTimeout(timer);
        self.removeEventListener('message', onMessage);
        signal?.removeEventListener('abort', onAbort);
      };
      const onMessage = (ev: MessageEventLike): void => {
        if (ev.source !== options.target || ev.origin !== hubOrigin) return; // not from the hub's window
        const msg = parseHandshake(ev.data);
        if (msg === undefined || msg.nonce !== nonce) return;
        if (msg.type === 'refuse') {
          done();
          reject(new ConnectionError('CB_ERR_ORIGIN_REFUSED', msg.message, { details: { hubOrigin } }));
          return;
        }
        const port = ev.ports?.[0] as PortLike | undefined;
        if (msg.type !== 'accept' || port === undefined || typeof port.postMessage !== 'function') return;
        done();
        const t = createPortTransport(port, { kind: 'postmessage', peer: `hub ${hubOrigin}`, origin: hubOrigin, vouchedOrigin: hubOrigin });
        // Leaving the page (reload, navigation, close) tells the hub at once.
        const onHide = (): void => t.close(CLOSE_GOING_AWAY, 'the page is going away');
        self.addEventListener('pagehide', onHide as never);
        resolve(t);
      };
      const onAbort = (): void => {
        done();
        reject(new ConnectionError('CB_ERR_HANDSHAKE_TIMEOUT', 'connect was aborted'));
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new ConnectionError('CB_ERR_HANDSHAKE_TIMEOUT', `the hub at ${hubOrigin} did not answer within ${timeoutMs} ms`, {
            details: { timeoutMs },
          }),
        );
      }, timeoutMs);
      self.addEventListener('message', onMessage);
      signal?.addEventListener('abort', onAbort);
      const connect: ConnectMessage = { crossbus: HANDSHAKE_TAG, type: 'connect', nonce };
      try {
        options.target.postMessage(connect, hubOrigin);
      } catch (err) {
        done();
        reject(new ConnectionError('CB_ERR_CONNECTION_FAILED', 'could not post to the hub window', { cause: err }));
      }
    });
}
