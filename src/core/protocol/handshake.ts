import { PROTOCOL_VERSION } from './envelope.js';

/**
 * HELLO and WELCOME carry JSON payloads. Unknown fields are ignored by both sides, so later
 * versions can add to them. `auth` is reserved for the security layer: a hub that does not
 * implement the scheme a client asks for refuses the hello with CB_ERR_HANDSHAKE_FAILED.
 */
export interface HelloPayload {
  /** Protocol versions the client speaks, newest first. */
  versions: number[];
  /** The app's name, as configured on the hub (used for logs now, identity later). */
  name: string;
  /** Library and version, for diagnostics. */
  client?: string;
  /** Reserved: credentials and key exchange (scheme, key id, public key, proof). */
  auth?: Record<string, unknown> | null;
}

export interface WelcomePayload {
  version: number;
  hubId: string;
  connectionId: string;
  /** Limits the hub enforces; the client adopts them so it fails fast locally. */
  limits: { maxFrameBytes: number; maxTopicLength: number; maxHeaderCount: number; maxHeaderBytes: number; maxSubscriptions: number };
  /** The hub pings when it heard nothing for this long, and drops the peer after twice as long. */
  heartbeatMs: number;
  /** Reserved: the hub's half of the key exchange and its proof. */
  auth?: Record<string, unknown> | null;
  /** The kind of transport this connection runs over, as the hub sees it ('tcp', 'unix', 'tls', 'websocket', ...). Newer hubs only. */
  transport?: string;
  /** Every address the hub listens on (ws://, tcp://, unix://, tls://), for a client to choose the fastest next time. Newer hubs only. */
  listeners?: readonly string[];
}

export const SUPPORTED_VERSIONS: readonly number[] = Object.freeze([PROTOCOL_VERSION]);

/**
 * Optional JSON payload of SUBSCRIBE. Absent means all defaults. Unknown fields are ignored so
 * later versions can add options (e.g. a member's version for canary analysis).
 */
export interface SubscribeOptionsPayload {
  /** Relative share of the group's messages; integer 1..MAX_GROUP_WEIGHT. @default 1 */
  weight?: number;
}

export const MAX_GROUP_WEIGHT = 1000;

/**
 * Why a group weight is unacceptable, or undefined when it is fine. `conflict` marks the case
 * where the weight itself is valid but comes without a group. Shared by the client (which refuses
 * locally) and the hub (which refuses raw frames).
 */
export function weightProblem(weight: unknown, hasGroup: boolean): { message: string; conflict: boolean } | undefined {
  if (weight === undefined) return undefined;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_GROUP_WEIGHT) {
    return { message: `weight must be an integer in 1..${MAX_GROUP_WEIGHT}`, conflict: false };
  }
  if (!hasGroup) return { message: 'weight needs a group', conflict: true };
  return undefined;
}
