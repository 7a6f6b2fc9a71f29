/**
 * What a JetStream failure means to crossbus. Every failure to store or read is StorageError
 * CB_ERR_STORAGE (retryable, as a full or failing disk is for the file log), with the NATS error
 * as `cause` and `details.reason`:
 *
 *   unavailable  nobody answered: no JetStream, or the stream has no leader (no quorum, election)
 *   timeout      no answer in time; for an append, it may still have been stored
 *   limit        a JetStream limit refused it: the stream's, the account's or the server's storage
 *                (`insufficient resources`), or the message is larger than NATS takes
 *   disconnected the hub's NATS connection is closed or reconnecting
 *   refused      any other JetStream API error (`details.jsCode` and `details.jsErrCode` name it)
 */
import { type CrossbusError, createError, isCrossbusError } from '../../core/errors/index.js';

/** JetStream API error codes (`err_code`) crossbus looks for. */
export const JS_NO_MESSAGE = 10037;
export const JS_DELETE_NOT_FOUND = 10057;
/** A delete of a sequence already deleted. */
export const JS_SEQ_NOT_FOUND = 10043;
export const JS_STREAM_NOT_FOUND = 10059;
export const JS_CONSUMER_NOT_FOUND = 10014;
export const JS_STREAM_NAME_IN_USE = 10058;
/** A publish that expected another last sequence of its subject (`Nats-Expected-Last-Subject-Sequence`). */
export const JS_WRONG_LAST_SEQUENCE = 10071;

interface NatsErrorLike {
  code?: unknown;
  message?: unknown;
  api_error?: { code?: number; err_code?: number; description?: string };
}

export type FailureReason = 'unavailable' | 'timeout' | 'limit' | 'disconnected' | 'refused';

/** The `err_code` of a JetStream API error, or undefined. */
export function jsErrCode(err: unknown): number | undefined {
  return (err as NatsErrorLike | undefined)?.api_error?.err_code;
}

/** No responders: nothing was received, so trying again cannot store a message twice. */
export function isNoResponders(err: unknown): boolean {
  const e = err as NatsErrorLike | undefined;
  return e?.code === '503' && e.api_error === undefined;
}

export interface RetryPlan {
  /** No try starts after this (ms since the epoch). */
  deadline: number;
  /** The first pause; each next one doubles, up to `maxWaitMs`. */
  firstWaitMs: number;
  maxWaitMs: number;
  /** Whether a failure is worth another try (the last failure is thrown as it is). */
  retryable(err: unknown): boolean;
  /** Told of each failure that is tried again. */
  retrying?(err: unknown): void;
}

/** Runs `op`, and again after each retryable failure, with pauses that double, until the deadline. */
export async function retrying<T>(op: () => Promise<T>, plan: RetryPlan): Promise<T> {
  for (let wait = plan.firstWaitMs; ; wait = Math.min(wait * 2, plan.maxWaitMs)) {
    try {
      return await op();
    } catch (err) {
      if (!plan.retryable(err) || Date.now() + wait >= plan.deadline) throw err;
      plan.retrying?.(err);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * Runs `op`, and again while NATS answers "no responders" (a stream just created, or between two
 * leaders, has nobody to answer yet: nothing was done, so trying again is safe), waiting 50 ms
 * doubling to 500 ms in between, until `deadline` (or until `stopped()`).
 */
export function whileLeaderless<T>(op: () => Promise<T>, deadline: number, stopped: () => boolean = () => false): Promise<T> {
  return retrying(op, { deadline, firstWaitMs: 50, maxWaitMs: 500, retryable: (err) => isNoResponders(err) && !stopped() });
}

export function reasonOf(err: unknown): FailureReason {
  const e = err as NatsErrorLike | undefined;
  const api = e?.api_error;
  if (api !== undefined) {
    const d = (api.description ?? '').toLowerCase();
    if (d.includes('exceeded') || d.includes('insufficient') || d.includes('maximum') || d.includes('too large')) return 'limit';
    if (api.code === 503 || d.includes('unavailable') || d.includes('no suitable peers')) return 'unavailable';
    return 'refused';
  }
  const code = String(e?.code ?? '');
  if (code === 'TIMEOUT') return 'timeout';
  if (code === '503') return 'unavailable';
  if (code === 'MAX_PAYLOAD_EXCEEDED') return 'limit';
  if (code === 'CONNECTION_CLOSED' || code === 'DISCONNECT' || code === 'CONNECTION_DRAINING') return 'disconnected';
  return 'refused';
}

/** CB_ERR_STORAGE for a failed JetStream operation on `stream` (a crossbus error passes through). */
export function jetStreamFailure(op: string, stream: string, cause: unknown): CrossbusError {
  if (isCrossbusError(cause)) return cause;
  const e = cause as NatsErrorLike | undefined;
  const reason = reasonOf(cause);
  const what = e?.api_error?.description ?? String(e?.message ?? cause);
  const details: Record<string, unknown> = { stream, op, reason };
  if (e?.api_error?.code !== undefined) details.jsCode = e.api_error.code;
  if (e?.api_error?.err_code !== undefined) details.jsErrCode = e.api_error.err_code;
  else if (typeof e?.code === 'string') details.natsCode = e.code;
  return createError('CB_ERR_STORAGE', `stream storage: JetStream ${op} on ${stream} failed (${reason}: ${what})`, { details, cause });
}
