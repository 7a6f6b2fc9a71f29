export { listenWindow, DEFAULT_WATCH_INTERVAL_MS, type ListenWindowOptions, type RefusedConnection, type WindowListener } from './listen-window.js';
export { windowConnector, DEFAULT_WINDOW_CONNECT_TIMEOUT_MS, type WindowConnectorOptions } from './window-connector.js';
export { HANDSHAKE_TAG, parseHandshake, type HandshakeMessage } from './messages.js';
export type { WindowLike, EventSourceLike, MessageEventLike } from './window-types.js';
