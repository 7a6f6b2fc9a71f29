/**
 * The dashboard as an app on the bus: a secret made here, registered with the HTTP session (so the
 * hub accepts it for this admin app while the session lives), then the crossbus client over the
 * hub's WebSocket. The secret exists in this page's memory only: never stored, never in a URL.
 */
import { connect } from '../../src/browser/index';
import type { SyncingBus } from '../../src/client/sync/syncing-bus';
import { registerBusKey, type SessionInfo } from './api';

export type DashboardBus = SyncingBus;

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export async function connectBus(session: SessionInfo): Promise<DashboardBus> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  await registerBusKey(session.csrf, base64(secret));
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  // No reconnects: a lost connection means the session ended or the hub went; the page asks again.
  return connect(url, { name: session.app, secret, reconnect: false, requestTimeoutMs: 5_000 });
}
