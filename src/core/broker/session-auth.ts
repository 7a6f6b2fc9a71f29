/**
 * What the hub knows of a session's authentication (the app, its key, its private reply inbox,
 * reply permits, operations held for consent), and the inbox rules every module shares.
 */
import type { HubHandshake } from '../security/hub-handshake.js';
import type { SecureTransport } from '../security/secure-transport.js';
import type { Session } from './session.js';

/**
 * A session's authentication and access state (`session.auth`): written only by the access gate's
 * modules (handshake-gate.ts, access-gate.ts) and by grantReply here, read-only elsewhere. On an
 * insecure hub it keeps its initial values.
 */
export interface SessionAuth {
  /** The record layer wrapping the session's transport, when the hub has security. */
  readonly secure: SecureTransport | undefined;
  readonly handshake: HubHandshake | undefined;
  /** True while a handshake step waits for asynchronous crypto: frames meanwhile are refused. */
  readonly busy: boolean;
  /** The authenticated app ('' before authentication or on an insecure hub). */
  readonly app: string;
  readonly keyId: string;
  /** Reply inbox prefix reserved for this connection ('_INBOX.<random>'). */
  readonly inbox: string;
  /** Reply topics this connection may answer once: it received a request naming them. */
  readonly replyPermits: ReadonlyMap<string, number>;
  /** Operations held for a person's consent. */
  readonly held: number;
  /** Closes the session when its key expires. */
  readonly keyTimer: ReturnType<typeof setTimeout> | undefined;
}

/** The writable authentication state: only the access gate's modules name this type. */
export class AuthState implements SessionAuth {
  handshake: HubHandshake | undefined = undefined;
  busy = false;
  app = '';
  keyId = '';
  inbox = '';
  readonly replyPermits = new Map<string, number>();
  held = 0;
  keyTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(readonly secure: SecureTransport | undefined) {}
}

export function newSessionAuth(secure: SecureTransport | undefined): SessionAuth {
  return new AuthState(secure);
}

export const INBOX_ROOT = '_INBOX.';
/** Open reply permits per connection (oldest dropped first) and how long one lasts. */
const MAX_REPLY_PERMITS = 10_000;
const REPLY_PERMIT_MS = 10 * 60_000;

export function isInboxPattern(pattern: string): boolean {
  return pattern === INBOX_ROOT.slice(0, -1) || pattern.startsWith(INBOX_ROOT);
}

/** '_INBOX.<token>' of an inbox topic. */
export function inboxOf(topic: string): string {
  const dot = topic.indexOf('.', INBOX_ROOT.length);
  return dot < 0 ? topic : topic.slice(0, dot);
}

/** Lets a connection that received a request answer its replyTo, once. */
export function grantReply(s: Session, replyTo: string): void {
  const permits = (s.auth as AuthState).replyPermits;
  if (permits.size >= MAX_REPLY_PERMITS) {
    const oldest = permits.keys().next().value;
    if (oldest !== undefined) permits.delete(oldest);
  }
  permits.set(replyTo, Date.now() + REPLY_PERMIT_MS);
}
