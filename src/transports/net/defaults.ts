/**
 * Every default of the TCP, Unix-socket and TLS transports and their listeners, in one place.
 */

/** How long a closing socket gets to flush and end before it is destroyed. @default 2_000 */
export const DEFAULT_SOCKET_CLOSE_GRACE_MS = 2_000;

/**
 * TCP keepalive: the OS probes an idle connection after this long, so a peer whose machine
 * vanished (a half-open socket) is found even when the protocol heartbeat is off. @default 15_000
 */
export const DEFAULT_KEEPALIVE_MS = 15_000;

/** Connections one listener holds at once (the broker's own bound applies too). @default 10_000 */
export const DEFAULT_LISTENER_MAX_CONNECTIONS = 10_000;

/**
 * Time a TLS client gets to finish the TLS handshake (the hub's own handshake timeout starts
 * after it). @default 10_000
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Time a client waits for a TCP, Unix or TLS connection to open. @default 10_000 */
export const DEFAULT_SOCKET_CONNECT_TIMEOUT_MS = 10_000;

/** Time a client spends probing one address of several before it tries the next. @default 2_000 */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/**
 * How long a TLS listener waits after its certificate files last changed before it reads them
 * again: a rotation writes the certificate and the key one after the other, and reading between
 * the two would find them mismatched. @default 500
 */
export const DEFAULT_TLS_RELOAD_DEBOUNCE_MS = 500;
