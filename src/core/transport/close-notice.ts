/**
 * The close notice message transports without a close frame of their own (ports, extension
 * ports) send before they go: `{ crossbus: 'close', code, reason }`, so both ends learn why.
 */
export const CLOSE_NOTICE = 'close';
/** Longest reason a close notice carries (WebSocket's own limit is 123 bytes; ours is generous). */
export const MAX_CLOSE_REASON = 256;

export interface CloseNotice {
  crossbus: typeof CLOSE_NOTICE;
  code: number;
  reason: string;
}

export function closeNotice(code: number, reason: string): CloseNotice {
  return { crossbus: CLOSE_NOTICE, code, reason: reason.slice(0, MAX_CLOSE_REASON) };
}

export function isCloseNotice(d: unknown): d is CloseNotice {
  if (typeof d !== 'object' || d === null) return false;
  const o = d as Record<string, unknown>;
  return (
    o.crossbus === CLOSE_NOTICE &&
    Number.isInteger(o.code) &&
    typeof o.reason === 'string' &&
    (o.reason as string).length <= MAX_CLOSE_REASON
  );
}
