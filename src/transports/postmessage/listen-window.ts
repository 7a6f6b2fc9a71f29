/**
 * The hub page's side of the window handshake. A frame or popup posts `connect`; if its origin
 * (as the browser reports it in `event.origin`) is on the allow-list, the hub answers `accept`
 * with one end of a fresh MessageChannel, posted to exactly that origin, and the conversation
 * moves onto the channel: no other script in either page can read or inject it. The origin
 * becomes the connection's vouched origin (its identity on a hub that identifies apps by origin).
 */
import { createError } from '../../core/errors/index.js';
import { normalizeAllowedOrigins, originAllowed } from '../../core/security/origins.js';
import { CLOSE_GOING_AWAY, type Transport, type TransportHandlers } from '../../core/transport/transport.js';
import { createPortTransport, type PortLike } from '../port/port-transport.js';
import { HANDSHAKE_TAG, parseHandshake, type AcceptMessage, type RefuseMessage } from './messages.js';
import type { EventSourceLike, MessageEventLike, WindowLike } from './window-types.js';
import { unrefTimer } from '../../core/util/timers.js';
import { DEFAULT_WATCH_INTERVAL_MS } from '../defaults.js';

export interface RefusedConnection {
  origin: string;
  reason: string;
}

export interface ListenWindowOptions {
  /** Called with each accepted connection (give it to `broker.accept`). */
  onConnection(transport: Transport): void;
  /**
   * Origins that may connect, normalized as browsers report them (`HTTPS://App.example:443` is
   * `https://app.example`) and then compared exactly. `'null'` (opaque origins: sandboxed frames,
   * `file:`) cannot be listed: the answer must be posted to the peer's exact origin, and browsers
   * refuse `'null'` as a target origin, so listing it throws CB_ERR_INVALID_OPTION.
   * @default [the page's own origin]
   */
  allowedOrigins?: readonly string[];
  /** Called for every refused attempt (audit it). @default ignore */
  onRefused?(info: RefusedConnection): void;
  /** Where connect requests arrive. @default globalThis (the page's window) */
  window?: EventSourceLike;
  /** @default DEFAULT_WATCH_INTERVAL_MS */
  watchIntervalMs?: number;
}

export interface WindowListener {
  /** Open connections by the window they came from. */
  readonly connections: number;
  /** Stops accepting; open connections stay. */
  close(): void;
}

function ownOrigin(): string | undefined {
  return (globalThis as { location?: { origin?: string } }).location?.origin;
}

export function listenWindow(options: ListenWindowOptions): WindowListener {
  // Normalized as browsers report origins, so that `event.origin` can be compared exactly.
  const allowed = normalizeAllowedOrigins(
    options.allowedOrigins ?? [ownOrigin()].filter((o): o is string => typeof o === 'string'),
    'allowedOrigins',
  );
  // Refused here rather than failing silently at every connect: `postMessage(accept, 'null')` throws.
  if (allowed.includes('null')) {
    throw createError(
      'CB_ERR_INVALID_OPTION',
      `allowedOrigins: "null" cannot be listed: browsers cannot post the answer to an opaque origin (a sandboxed frame, file:); give the frame a real origin${options.allowedOrigins === undefined ? ' (this page itself has an opaque origin: pass allowedOrigins)' : ''}`,
      { details: { option: 'allowedOrigins' } },
    );
  }
  const target = options.window ?? (globalThis as unknown as EventSourceLike);
  const bySource = new Map<WindowLike, Transport>();
  const refuse = (origin: string, reason: string, source: WindowLike, nonce: string): void => {
    options.onRefused?.({ origin, reason });
    // Opaque origins cannot be addressed without '*': they get no answer and time out. Any other
    // origin is what the browser reported; one it cannot address makes postMessage throw.
    if (origin === 'null' || origin === '*') return;
    const msg: RefuseMessage = {
      crossbus: HANDSHAKE_TAG,
      type: 'refuse',
      nonce,
      code: 'CB_ERR_ORIGIN_REFUSED',
      message: `origin ${origin} may not connect to this hub`,
    };
    try {
      source.postMessage(msg, origin);
    } catch {
      /* gone */
    }
  };
  const onMessage = (ev: MessageEventLike): void => {
    const msg = parseHandshake(ev.data);
    if (msg === undefined || msg.type !== 'connect') return; // not ours
    const source = ev.source as WindowLike | null;
    if (source === null || typeof source !== 'object' || typeof source.postMessage !== 'function') return;
    const origin = ev.origin;
    if (!originAllowed(allowed, origin)) {
      refuse(
        origin,
        origin === 'null' ? 'opaque origins (sandboxed frames, file:) are always refused' : 'not in allowedOrigins',
        source,
        msg.nonce,
      );
      return;
    }
    // A second connect from the same window: it reloaded or navigated. The old channel is dead.
    bySource.get(source)?.close(CLOSE_GOING_AWAY, 'the window connected again (reloaded or navigated)');
    const MC = (globalThis as { MessageChannel?: new () => { port1: PortLike; port2: PortLike } }).MessageChannel;
    if (MC === undefined) return;
    const { port1, port2 } = new MC();
    const accept: AcceptMessage = { crossbus: HANDSHAKE_TAG, type: 'accept', nonce: msg.nonce };
    try {
      source.postMessage(accept, origin, [port2 as unknown as Transferable]);
    } catch {
      return;
    }
    const inner = createPortTransport(port1, { kind: 'postmessage', peer: `window ${origin}`, origin, vouchedOrigin: origin });
    const transport = watched(inner, () => {
      if (bySource.get(source) === transport) bySource.delete(source);
    });
    bySource.set(source, transport);
    options.onConnection(transport);
  };
  target.addEventListener('message', onMessage);
  const timer = setInterval(() => {
    for (const [source, t] of bySource) {
      let gone = false;
      try {
        gone = source.closed === true;
      } catch {
        gone = true;
      }
      if (gone) t.close(CLOSE_GOING_AWAY, 'the window is gone (closed, removed or navigated away)');
    }
  }, options.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS);
  unrefTimer(timer);
  return {
    get connections() {
      return bySource.size;
    },
    close: () => {
      target.removeEventListener('message', onMessage);
      clearInterval(timer);
    },
  };
}

/** The same transport, telling `onClosed` when it closes (to forget its window). */
function watched(inner: Transport, onClosed: () => void): Transport {
  return {
    get kind() {
      return inner.kind;
    },
    get framing() {
      return inner.framing;
    },
    get peer() {
      return inner.peer;
    },
    get origin() {
      return inner.origin;
    },
    get vouchedOrigin() {
      return inner.vouchedOrigin;
    },
    setHandlers: (h: TransportHandlers) =>
      inner.setHandlers({
        ...h,
        close: (info) => {
          onClosed();
          h.close(info);
        },
      }),
    send: (chunk) => inner.send(chunk),
    bufferedAmount: () => inner.bufferedAmount(),
    close: (code, reason) => inner.close(code, reason),
  };
}
