/**
 * What the port-based connectors share (ports, and shared memory, whose setup travels over a
 * port): a fresh MessageChannel per connect, the shape of a connect request, and listening for
 * requests on a Worker, a worker scope or Node's parentPort.
 */
import { createError } from '../../core/errors/index.js';
import type { PortLike } from './port-transport.js';

interface ChannelLike {
  port1: PortLike;
  port2: PortLike;
}

export function newChannel(): ChannelLike {
  const MC = (globalThis as { MessageChannel?: new () => ChannelLike }).MessageChannel;
  if (MC === undefined) throw createError('CB_ERR_CONNECTION_FAILED', 'this runtime has no MessageChannel');
  return new MC();
}

/** `{ crossbus: kind, port }` with a port that can post. */
export function isPortRequest(d: unknown, kind: string): d is { crossbus: string; port: PortLike } {
  if (typeof d !== 'object' || d === null) return false;
  const o = d as Record<string, unknown>;
  const port = o.port as PortLike | undefined;
  return o.crossbus === kind && typeof port === 'object' && port !== null && typeof port.postMessage === 'function';
}

/** Hands every message's data posted to `target` to `accept`; returns a function that stops listening. */
export function onPortMessages(target: PortLike, accept: (data: unknown) => void, who: string): () => void {
  const onEvent = (ev: { data?: unknown }): void => accept(ev.data);
  if (typeof target.addEventListener === 'function') {
    target.addEventListener('message', onEvent);
    target.start?.();
    return () => target.removeEventListener?.('message', onEvent);
  }
  if (typeof target.on === 'function') {
    target.on('message', accept);
    return () => target.off?.('message', accept);
  }
  throw new TypeError(`${who} needs a target with addEventListener or on`);
}
