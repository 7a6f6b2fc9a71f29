/**
 * The window handshake's three messages. They carry no secret and no payload: only a nonce that
 * ties the answer to the request. Every message is checked against this schema before anything
 * acts on it; anything else posted to the window is ignored.
 */
export const HANDSHAKE_TAG = 'crossbus-window/1';

export interface ConnectMessage {
  crossbus: typeof HANDSHAKE_TAG;
  type: 'connect';
  nonce: string;
}
export interface AcceptMessage {
  crossbus: typeof HANDSHAKE_TAG;
  type: 'accept';
  nonce: string;
}
export interface RefuseMessage {
  crossbus: typeof HANDSHAKE_TAG;
  type: 'refuse';
  nonce: string;
  code: string;
  message: string;
}
export type HandshakeMessage = ConnectMessage | AcceptMessage | RefuseMessage;

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;

export function parseHandshake(data: unknown): HandshakeMessage | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const o = data as Record<string, unknown>;
  if (o.crossbus !== HANDSHAKE_TAG || typeof o.nonce !== 'string' || !NONCE.test(o.nonce)) return undefined;
  if (o.type === 'connect' || o.type === 'accept') return { crossbus: HANDSHAKE_TAG, type: o.type, nonce: o.nonce };
  if (
    o.type === 'refuse' &&
    typeof o.code === 'string' &&
    /^CB_ERR_[A-Z_]{1,40}$/.test(o.code) &&
    typeof o.message === 'string' &&
    o.message.length <= 300
  ) {
    return { crossbus: HANDSHAKE_TAG, type: 'refuse', nonce: o.nonce, code: o.code, message: o.message };
  }
  return undefined;
}
