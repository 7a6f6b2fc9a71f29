/**
 * Requests in flight to each responder, so that when a responder goes away (its tab closed, its
 * iframe removed, its worker stopped) the requester learns at once with CB_ERR_RESPONDER_GONE
 * instead of waiting for its timeout. A request delivered to several subscribers fails only when
 * the last of them leaves without answering. These functions work on one responder's map
 * (`session.routing.inflight`), which the Router hands them.
 */
import type { Session } from './session.js';

export interface InflightRequest {
  readonly requester: Session;
  readonly id: number;
  /** When the hub read the request (HubCounters.receivedAt; 0: not timed). */
  readonly receivedAt: number;
  /** Recipients that neither answered nor left. */
  responders: number;
  answered: boolean;
}

/** Requests remembered per responder; the oldest are forgotten first (they fall back to the requester's timeout). */
export const MAX_INFLIGHT_PER_RESPONDER = 10_000;

/** Records that the responder received request `req` (under its replyTo topic). */
export function trackRequest(inflight: Map<string, InflightRequest>, replyTo: string, req: InflightRequest): void {
  if (inflight.size >= MAX_INFLIGHT_PER_RESPONDER) {
    const oldest = inflight.keys().next().value;
    if (oldest !== undefined) {
      const r = inflight.get(oldest);
      inflight.delete(oldest);
      if (r !== undefined) r.responders--;
    }
  }
  inflight.set(replyTo, req);
  req.responders++;
}

/**
 * The responder sent a reply to `topic`: the request it answers is settled. Returns when the hub
 * read that request if this is its first reply (for the round-trip histogram), else 0.
 */
export function answered(inflight: Map<string, InflightRequest>, topic: string): number {
  const req = inflight.get(topic);
  if (req === undefined) return 0;
  inflight.delete(topic);
  const first = !req.answered;
  req.answered = true;
  req.responders--;
  return first ? req.receivedAt : 0;
}

/** The responder left: returns the requests nobody else can answer any more. */
export function abandoned(inflight: Map<string, InflightRequest>): InflightRequest[] {
  const out: InflightRequest[] = [];
  for (const req of inflight.values()) {
    req.responders--;
    if (!req.answered && req.responders === 0 && req.requester.state === 'open') out.push(req);
  }
  inflight.clear();
  return out;
}
