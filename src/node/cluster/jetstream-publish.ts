/**
 * One publish to JetStream, acknowledged: resolves with the PubAck, the moment a quorum of the
 * stream's replicas holds the message. While the stream has no leader (a node died, an election
 * runs) JetStream answers nothing and NATS says "no responders": nobody received the message, so
 * it is sent again until the deadline. A timeout is not retried: the message may have been stored.
 */
import type { JetStreamClient, PubAck } from 'nats';
import { type HeaderEntries, toNatsHeaders } from './jetstream-codec.js';
import { isNoResponders } from './jetstream-errors.js';

/** First pause before a publish is sent again; it doubles up to MAX_RETRY_WAIT_MS. */
const FIRST_RETRY_WAIT_MS = 50;
const MAX_RETRY_WAIT_MS = 500;

export async function publishAcknowledged(
  js: JetStreamClient,
  subject: string,
  payload: Uint8Array,
  headers: HeaderEntries,
  timeoutMs: number,
  stopped: () => boolean,
  expectStreamLastSeq?: number,
): Promise<PubAck> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = FIRST_RETRY_WAIT_MS; ; wait = Math.min(wait * 2, MAX_RETRY_WAIT_MS)) {
    try {
      return await js.publish(subject, payload, {
        headers: toNatsHeaders(headers),
        timeout: Math.max(1, deadline - Date.now()),
        ...(expectStreamLastSeq !== undefined ? { expect: { lastSequence: expectStreamLastSeq } } : {}),
      });
    } catch (err) {
      if (!isNoResponders(err) || Date.now() + wait >= deadline || stopped()) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
