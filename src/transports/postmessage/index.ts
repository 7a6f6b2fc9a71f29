export { listenWindow, type ListenWindowOptions, type RefusedConnection, type WindowListener } from './listen-window.js';
export { windowConnector, type WindowConnectorOptions } from './window-connector.js';
export { HANDSHAKE_TAG, parseHandshake, type HandshakeMessage } from './messages.js';
export type { WindowLike, EventSourceLike, MessageEventLike } from './window-types.js';
export { DEFAULT_WATCH_INTERVAL_MS, DEFAULT_WINDOW_CONNECT_TIMEOUT_MS } from '../defaults.js';
