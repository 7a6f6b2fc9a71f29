import type { KeyExchangeGroup } from './crypto.js';
import type { PolicyGrants } from './policy.js';
import type { IntegrityAlgorithm, ProtectionMode } from './record.js';

/** The only authentication scheme of protocol v1: pre-shared secret + ephemeral ECDH (TLS 1.3 psk_dhe_ke style). */
export const AUTH_SCHEME = 'cb1-psk-ecdhe';
/** HELLO header carrying the binder (HMAC over the HELLO payload with a key derived from the secret). */
export const HEADER_BINDER = 'cb-binder';
/** WELCOME (hub) and AUTH (client) header carrying the finished proof over the transcript. */
export const HEADER_PROOF = 'cb-proof';
/** On an OK with id 0: its JSON payload `{ grants }` replaces the grants the client knows (after a config reload). */
export const HEADER_GRANTS = 'cb-grants';

/** `auth` of a HELLO. Covered by the binder, and by both proofs through the transcript. */
export interface HelloAuth {
  scheme: typeof AUTH_SCHEME;
  /** Names which of the app's secrets the client holds (derived from it; reveals nothing). */
  keyId: string;
  group: KeyExchangeGroup;
  /** Client's ephemeral public key, base64. */
  share: string;
  /** 32 random bytes, base64. */
  nonce: string;
  /** Client clock (ms), checked against the hub's skew window. */
  time: number;
  mode: ProtectionMode;
  /**
   * With mode 'integrity': the algorithms the client accepts, in its order of preference. A HELLO
   * without it comes from a client older than this negotiation, and gets HMAC-SHA256.
   */
  integrity?: IntegrityAlgorithm[];
}

/** WELCOME `auth` on a browser hub that identified the app by the origin its transport vouches for (no secret, no records). */
export const ORIGIN_SCHEME = 'origin';
export interface OriginWelcomeAuth {
  scheme: typeof ORIGIN_SCHEME;
  app: string;
  origin: string;
  inbox: string;
  grants: GrantsSummary;
}

/** What an app may do, as the hub tells the client (it refuses locally what the hub would refuse). */
export type GrantsSummary = PolicyGrants;

/** `auth` of a WELCOME. Covered by the hub's proof. */
export interface WelcomeAuth {
  scheme: typeof AUTH_SCHEME;
  group: KeyExchangeGroup;
  share: string;
  nonce: string;
  mode: ProtectionMode;
  /** With mode 'integrity': the algorithm the hub chose from the client's offer. */
  integrity?: IntegrityAlgorithm;
  /** The app as authenticated. */
  app: string;
  /** Reply inbox prefix reserved for this connection (`_INBOX.<random>`): only it receives replies there. */
  inbox: string;
  grants: GrantsSummary;
  rekey: { afterRecords: number; afterMs: number };
  maxClockSkewMs: number;
  /** When the key used expires (ms since epoch), if it does. */
  keyExpiresAt?: number;
}
