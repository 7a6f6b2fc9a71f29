/**
 * Requests the hub itself sends to one chosen connection (a deployment's smoke requests and health
 * probes go to the instance under test, whatever its traffic weight). The reply comes back to a hub
 * inbox no client can subscribe to; the Router hands such replies here instead of routing them.
 */
import { createError, type CrossbusError } from '../errors/index.js';
import type { Envelope } from '../protocol/envelope.js';
import { PayloadType } from '../protocol/envelope.js';
import { decodeJson } from '../util/json.js';
import { REPLY_ERROR_HEADER } from './traffic.js';

/** Replies to the hub's own requests go to topics under this prefix (an inbox no connection owns). */
export const HUB_INBOX_PREFIX = '_INBOX.$hub.';

/** What a connection answered the hub. */
export type HubReply = { readonly ok: true; readonly data: unknown } | { readonly ok: false; readonly error: CrossbusError };

export class HubRequests {
  readonly #pending = new Map<string, (reply: HubReply) => void>();
  #seq = 0;

  get size(): number {
    return this.#pending.size;
  }

  /** A fresh reply topic, and the promise its reply (or `cancel`) settles. */
  open(): { replyTo: string; reply: Promise<HubReply> } {
    const replyTo = `${HUB_INBOX_PREFIX}${++this.#seq}`;
    const reply = new Promise<HubReply>((resolve) => this.#pending.set(replyTo, resolve));
    return { replyTo, reply };
  }

  /** Settles `replyTo` with an error (a timeout, no responder), unless it was answered. */
  cancel(replyTo: string, error: CrossbusError): void {
    const resolve = this.#pending.get(replyTo);
    this.#pending.delete(replyTo);
    resolve?.({ ok: false, error });
  }

  /** A REPLY to one of the hub's inboxes: true when it answered a pending request. */
  settle(env: Envelope): boolean {
    const resolve = this.#pending.get(env.topic);
    if (resolve === undefined) return false;
    this.#pending.delete(env.topic);
    let data: unknown;
    try {
      data = env.payloadType === PayloadType.JSON ? decodeJson(env.payload) : env.payload.slice();
    } catch {
      resolve({ ok: false, error: createError('CB_ERR_PAYLOAD_INVALID', 'the reply is not JSON') });
      return true;
    }
    const code = env.headers?.[REPLY_ERROR_HEADER];
    if (code === undefined) resolve({ ok: true, data });
    else {
      const message = typeof (data as { message?: unknown })?.message === 'string' ? (data as { message: string }).message : code;
      resolve({ ok: false, error: createError('CB_ERR_HANDLER_FAILED', message, { details: { code } }) });
    }
    return true;
  }
}
