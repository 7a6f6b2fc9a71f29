/**
 * Requests the hub answers itself, on reserved topics under `$SYS.` (as NATS does): the stats
 * snapshot `crossbus stats` reads. Such a request is access-checked like any other (the app
 * needs a `request` grant that covers the topic: an admin's `>` does, an app's `app.>` does not),
 * and it is never routed to subscribers, so no client can answer in the hub's name.
 */

/** Every reserved topic starts with this. */
export const SYSTEM_TOPIC_PREFIX = '$SYS.';
/** Answered with the hub's stats snapshot (see src/hub/stats-snapshot.ts). */
export const STATS_TOPIC = '$SYS.REQ.STATS';

/** The first character of a reserved topic: one comparison tells a request that may be one. */
export const SYSTEM_TOPIC_FIRST_CHAR = 0x24; // '$'

/** By reserved topic: what answers it (a JSON value). */
export type SystemResponders = Readonly<Record<string, () => unknown>>;
