/**
 * The payload of an ACK frame: a 4-byte delivery token (a plain ack, the common case, without
 * JSON), or JSON `{ token, op, delayMs?, reason? }` for nak, term and progress.
 */
import { PayloadType, type Envelope } from '../protocol/envelope.js';
import { decodeJson } from '../util/json.js';
import type { AckPayload } from './wire.js';

/** Longest delay a nak may ask for. */
const MAX_NAK_DELAY_MS = 86_400_000;
/** Longest reason a term may give. */
const MAX_REASON_LENGTH = 1024;

/** The settlement an ACK frame carries, or undefined when its payload is not a valid one. */
export function decodeAck(env: Envelope): AckPayload | undefined {
  let ack: AckPayload | undefined;
  if (env.payloadType === PayloadType.BYTES && env.payload.length === 4) {
    const p = env.payload;
    ack = { op: 'ack', token: (p[0] as number) * 0x1000000 + (((p[1] as number) << 16) | ((p[2] as number) << 8) | (p[3] as number)) };
  } else if (env.payloadType === PayloadType.JSON) {
    try {
      ack = decodeJson(env.payload) as AckPayload;
    } catch {
      ack = undefined;
    }
  }
  return ack !== undefined && validAck(ack) ? ack : undefined;
}

function validAck(a: AckPayload): boolean {
  if (typeof a !== 'object' || a === null || !Number.isSafeInteger(a.token) || a.token < 0 || a.token > 0xffff_ffff) return false;
  if (a.op !== 'ack' && a.op !== 'nak' && a.op !== 'term' && a.op !== 'progress') return false;
  if (a.delayMs !== undefined && (!Number.isSafeInteger(a.delayMs) || a.delayMs < 0 || a.delayMs > MAX_NAK_DELAY_MS)) return false;
  return a.reason === undefined || (typeof a.reason === 'string' && a.reason.length <= MAX_REASON_LENGTH);
}
