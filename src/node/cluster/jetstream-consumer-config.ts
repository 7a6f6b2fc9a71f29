/**
 * A crossbus durable consumer's settings as a JetStream consumer's. JetStream counts its ack wait
 * from the moment a server sends a message; the hub counts `ackWaitMs` from the moment it receives
 * it and refuses acks after that (stale). So that an ack the hub accepted is never for a message
 * JetStream has already sent out again, JetStream's wait for delivery d is the hub's, plus the
 * backoff after it (`backoffMs[d-1]`, the last entry repeating: JetStream's `backoff` has the same
 * rule), plus ACK_GUARD_MS for the way from the server to the hub. With a backoff, JetStream's
 * `ack_wait` is its first entry.
 *
 * JetStream's `max_deliver` is left practically unbounded: the hub dead-letters a message itself
 * after `maxDeliver` deliveries (jetstream-consumer.ts), and a message whose dead letter could not
 * be stored must come back to be tried again.
 */
import { AckPolicy, type ConsumerConfig, type ConsumerInfo, DeliverPolicy, type JetStreamManager, ReplayPolicy, nanos } from 'nats';
import type { ConsumerState } from '../../core/streams/catalog.js';
import type { DeliverPolicy as CrossbusDeliver, ResolvedConsumerConfig } from '../../core/streams/config.js';
import { JS_CONSUMER_NOT_FOUND, jetStreamFailure, jsErrCode } from './jetstream-errors.js';

/** How much later than the hub's own deadline JetStream sends a timed-out message out again. */
export const ACK_GUARD_MS = 250;
/** JetStream's max_deliver: more than any `maxDeliver` (1,000,000) and any backoff list. */
const UNBOUNDED_DELIVERIES = 2_000_000_000;
/** How often, and how many times, a new consumer is asked whether its replicas elected a leader. */
const LEADER_POLL_MS = 50;
const LEADER_POLLS = 100;

/** The settings a member joining may change (JetStream updates them in place). */
export type EditableSettings = Pick<ConsumerConfig, 'ack_wait' | 'backoff' | 'max_ack_pending' | 'max_deliver'>;

export function editableSettings(c: ResolvedConsumerConfig): EditableSettings {
  const out: EditableSettings = {
    ack_wait: nanos(c.ackWaitMs + ACK_GUARD_MS),
    max_ack_pending: c.maxAckPending,
    max_deliver: UNBOUNDED_DELIVERIES,
  };
  if (c.backoffMs.length > 0) {
    out.backoff = c.backoffMs.map((b) => nanos(c.ackWaitMs + b + ACK_GUARD_MS));
    // JetStream sets it so itself when there is a backoff: said here, a comparison finds no change.
    out.ack_wait = out.backoff[0] as number;
  }
  return out;
}

/** Whether the JetStream consumer already has these settings. */
export function sameSettings(have: Partial<ConsumerConfig>, want: EditableSettings): boolean {
  const hb = have.backoff ?? [];
  const wb = want.backoff ?? [];
  return (
    have.ack_wait === want.ack_wait &&
    have.max_ack_pending === want.max_ack_pending &&
    have.max_deliver === want.max_deliver &&
    hb.length === wb.length &&
    hb.every((x, i) => x === wb[i])
  );
}

/** Where a new JetStream consumer starts: the deliver policy, or (re-created) the position the catalog saved. */
export function startOf(deliver: CrossbusDeliver, saved?: ConsumerState): Partial<ConsumerConfig> {
  if (saved !== undefined) {
    const floor = Math.min(saved.nextSeq, ...saved.plan, ...saved.outstanding.map(([seq]) => seq));
    if (floor > 1) return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor };
  }
  if (deliver === 'all') return { deliver_policy: DeliverPolicy.All };
  if (deliver === 'new') return { deliver_policy: DeliverPolicy.New };
  if (deliver === 'last-per-topic') return { deliver_policy: DeliverPolicy.LastPerSubject };
  if ('seq' in deliver) return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: deliver.seq };
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(deliver.time).toISOString() };
}

/** The whole JetStream consumer configuration of durable `name`. */
export function consumerConfig(name: string, c: ResolvedConsumerConfig, saved?: ConsumerState): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    replay_policy: ReplayPolicy.Instant,
    ...startOf(c.deliver, saved),
    ...editableSettings(c),
  };
}

/**
 * The JetStream consumer `name` of `jetStream` with these settings: created when missing (at the
 * deliver policy, or where `saved` stood), updated when a setting differs, and once its replicas
 * have elected a leader (before that, a pull request is dropped unanswered). Rejects with
 * CB_ERR_STORAGE.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  jetStream: string,
  name: string,
  config: ResolvedConsumerConfig,
  saved?: ConsumerState,
): Promise<ConsumerInfo> {
  const want = editableSettings(config);
  try {
    let info = await jsm.consumers.info(jetStream, name).catch((err: unknown) => {
      if (jsErrCode(err) === JS_CONSUMER_NOT_FOUND) return undefined;
      throw err;
    });
    if (info === undefined) info = await jsm.consumers.add(jetStream, consumerConfig(name, config, saved));
    else if (!sameSettings(info.config, want)) info = await jsm.consumers.update(jetStream, name, want);
    for (let i = 0; i < LEADER_POLLS && info.cluster !== undefined && !info.cluster.leader; i++) {
      await new Promise((r) => setTimeout(r, LEADER_POLL_MS));
      info = await jsm.consumers.info(jetStream, name);
    }
    return info;
  } catch (err) {
    throw jetStreamFailure('consumer create', jetStream, err);
  }
}

/** Deletes the JetStream consumer `name` (already gone is fine); rejects with CB_ERR_STORAGE. */
export async function deleteConsumer(jsm: JetStreamManager, jetStream: string, name: string): Promise<void> {
  try {
    await jsm.consumers.delete(jetStream, name);
  } catch (err) {
    if (jsErrCode(err) !== JS_CONSUMER_NOT_FOUND) throw jetStreamFailure('consumer delete', jetStream, err);
  }
}
