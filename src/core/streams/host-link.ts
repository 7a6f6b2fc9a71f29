/**
 * The broker a stream service is attached to. The service's parts are built before the broker
 * hands itself over (`attach`), so they share this link instead of holding the host itself.
 */
import { createError } from '../errors/index.js';
import type { StreamServiceHost } from './stream-service.js';

export class HostLink<S> {
  /** Undefined until the broker attached itself. */
  current: StreamServiceHost<S> | undefined = undefined;

  /** The host; CB_ERR_INTERNAL when no broker attached itself yet. */
  get(): StreamServiceHost<S> {
    if (this.current === undefined) throw createError('CB_ERR_INTERNAL', 'stream service is not attached to a broker');
    return this.current;
  }
}
