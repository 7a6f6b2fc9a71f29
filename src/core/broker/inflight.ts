/**
 * Requests in flight to each responder, so that when a responder goes away (its tab closed, its
 * iframe removed, its worker stopped) the requester learns at once with CB_ERR_RESPONDER_GONE
 * instead of waiting for its timeout. A request delivered to several subscribers fails only when
 * the last of them leaves without answering.
 */
import type { Session } from './session.js';

export interface InflightRequest {
  readonly requester: Session;
  readonly id: number;
  /** Recipients that neither answered nor left. */
  responders: number;
  answered: boolean;
}

/** Requests remembered per responder; the oldest are forgotten first (they fall back to the requester's timeout). */
export const MAX_INFLIGHT_PER_RESPONDER = 10_000;

/** Records that `responder` received request `req` (under its replyTo topic). */
export function trackRequest(responder: Session, replyTo: string, req: InflightRequest): void {
  const m = responder.inflight;
  if (m.size >= MAX_INFLIGHT_PER_RESPONDER) {
    const oldest = m.keys().next().value;
    if (oldest !== undefined) {
      const r = m.get(oldest);
      m.delete(oldest);
      if (r !== undefined) r.responders--;
    }
  }
  m.set(replyTo, req);
  req.responders++;
}

/** `responder` sent a reply to `topic`: the request it answers is settled. */
export function answered(responder: Session, topic: string): void {
  const req = responder.inflight.get(topic);
  if (req === undefined) return;
  responder.inflight.delete(topic);
  req.answered = true;
  req.responders--;
}

/** `responder` left: returns the requests nobody else can answer any more. */
export function abandoned(responder: Session): InflightRequest[] {
  const out: InflightRequest[] = [];
  for (const req of responder.inflight.values()) {
    req.responders--;
    if (!req.answered && req.responders === 0 && req.requester.state === 'open') out.push(req);
  }
  responder.inflight.clear();
  return out;
}
