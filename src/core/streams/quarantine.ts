/**
 * Quarantine of a stream whose stored data turned out damaged: it keeps its name and
 * configuration so operators can see it (stream info says why), refuses everything else, and its
 * consumers' members (also its dead-letter stream's) end with CB_ERR_STREAM_QUARANTINED. The
 * hub's other streams keep working.
 */
import { type CrossbusError, createError } from '../errors/index.js';
import type { Logger } from '../util/logger.js';
import type { ConsumerRegistry } from './consumer-registry.js';
import type { HostLink } from './host-link.js';
import type { Stream } from './stream.js';

export class StreamQuarantine<S> {
  readonly #logger: Logger;
  readonly #host: HostLink<S>;
  readonly #consumers: ConsumerRegistry<S>;

  constructor(logger: Logger, host: HostLink<S>, consumers: ConsumerRegistry<S>) {
    this.#logger = logger;
    this.#host = host;
    this.#consumers = consumers;
  }

  /** Quarantines a user stream with its dead-letter stream (once; later errors change nothing). */
  apply(stream: Stream<S>, error: CrossbusError): void {
    if (stream.quarantined !== undefined) return;
    stream.quarantined = error;
    if (stream.deadLetters) stream.deadLetters.quarantined = error;
    this.#logger.error(
      {
        stream: stream.name,
        code: error.code,
        message: error.message,
      },
      'stream quarantined: its data is damaged; other streams keep working',
    );
    // Streams are opened before a broker attaches: nobody to tell yet.
    this.#host.current?.emit({ action: 'quarantined', stream: stream.name, details: { code: error.code, message: error.message } });
    const ended = createError('CB_ERR_STREAM_QUARANTINED', `stream ${stream.name} is quarantined: ${error.message}`, {
      details: { stream: stream.name },
    });
    for (const x of [stream, stream.deadLetters]) {
      for (const c of x?.consumers.values() ?? []) this.#consumers.end(c, ended);
    }
  }
}
