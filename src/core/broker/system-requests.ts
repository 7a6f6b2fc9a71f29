/**
 * Requests the hub answers itself, on reserved topics under `$SYS.` (as NATS does): the stats
 * snapshot `crossbus stats` reads, the settings service's operations. Such a request is access-checked like any other (the app
 * needs a `request` grant that covers the topic: an admin's `>` does, an app's `app.>` does not),
 * and it is never routed to subscribers, so no client can answer in the hub's name.
 */

/** Every reserved topic starts with this. */
export const SYSTEM_TOPIC_PREFIX = '$SYS.';
/** Answered with the hub's stats snapshot (see src/hub/stats-snapshot.ts). */
export const STATS_TOPIC = '$SYS.REQ.STATS';

/** The first character of a reserved topic: one comparison tells a request that may be one. */
export const SYSTEM_TOPIC_FIRST_CHAR = 0x24; // '$'

/** What a system responder is told of the request it answers. */
export interface SystemRequest {
  /** The authenticated app that asks ('' on a hub without security). */
  readonly app: string;
  /** The connection that asks (a hub part may act on it: a deployment identifies an instance by it). */
  readonly connectionId: string;
  /** The request's JSON payload (undefined when it carries none or bytes). */
  readonly data: unknown;
}

/**
 * Answers one reserved topic with a JSON value, or a promise of one. A CrossbusError it throws
 * (or rejects with) is the requester's ERROR, code and details as they are; anything else is
 * CB_ERR_INTERNAL.
 */
export type SystemResponder = (request: SystemRequest) => unknown;

/** By reserved topic: what answers it. */
export type SystemResponders = Readonly<Record<string, SystemResponder>>;
