/**
 * Capture of routed publishes: a PUBLISH whose topic a stream captures is appended to that
 * stream's log (de-duplicated by msgId). A durable publish (header cb-durable) is answered once
 * stored: OK with its seq and the stream's name as topic (cb-duplicate when its msgId was
 * stored before), or ERROR. Runs for every routed PUBLISH.
 */
import { createError } from '../errors/index.js';
import { Kind, envelope, type Envelope, type Headers } from '../protocol/envelope.js';
import type { Logger } from '../util/logger.js';
import type { HostLink } from './host-link.js';
import { type Stream, asCrossbusError } from './stream.js';
import type { StreamTable } from './stream-table.js';
import { HEADER_DUPLICATE, HEADER_DURABLE, HEADER_EXPECT_LAST_SEQ, HEADER_MSG_ID, MAX_MSG_ID_LENGTH } from './wire.js';

export interface PublishCaptureParts<S> {
  table: StreamTable<S>;
  host: HostLink<S>;
  logger: Logger;
  clock: () => number;
  /** Message ids one stream remembers (named in the warning when a stream forgets them early). */
  maxDuplicateIds: number;
  /** With a catalog shared with other hubs: reads it again, for a stream another hub just created. */
  lookup?: { readonly current: (() => Promise<void>) | undefined };
}

export class PublishCapture<S> {
  readonly #p: PublishCaptureParts<S>;
  /** Streams already warned about forgetting message ids early (once per stream and run). */
  readonly #warnedForgetting = new WeakSet<Stream<S>>();

  constructor(parts: PublishCaptureParts<S>) {
    this.#p = parts;
  }

  capture(s: S, env: Envelope, lookedUp = false): void {
    const p = this.#p;
    const durable = env.headers?.[HEADER_DURABLE] !== undefined;
    const stream = p.table.capturing(env.topic);
    if (stream === undefined) {
      const lookup = p.lookup?.current;
      if (durable && !lookedUp && lookup !== undefined) {
        // Held past this call: its own copy of the bytes (the transport may reuse its buffer).
        const held = { ...env, payload: env.payload.slice() };
        void lookup().then(() => this.capture(s, held, true));
        return;
      }
      if (durable)
        p.host
          .get()
          .replyError(
            s,
            env.id,
            createError('CB_ERR_NO_STREAM', `no stream captures ${JSON.stringify(env.topic)}`, { details: { topic: env.topic } }),
          );
      return;
    }
    let headers: Headers | undefined = env.headers;
    const msgId = headers?.[HEADER_MSG_ID];
    if (msgId !== undefined && (msgId.length === 0 || msgId.length > MAX_MSG_ID_LENGTH)) {
      if (durable)
        p.host
          .get()
          .replyError(
            s,
            env.id,
            createError('CB_ERR_INVALID_OPTION', `msgId must be 1 to ${MAX_MSG_ID_LENGTH} characters`, { details: { option: 'msgId' } }),
          );
      return;
    }
    const expectText = headers?.[HEADER_EXPECT_LAST_SEQ];
    let expectLastSeq: number | undefined;
    if (expectText !== undefined) {
      expectLastSeq = /^(0|[1-9]\d{0,15})$/.test(expectText) ? Number(expectText) : Number.NaN;
      if (!Number.isSafeInteger(expectLastSeq)) {
        if (durable)
          p.host.get().replyError(
            s,
            env.id,
            createError('CB_ERR_INVALID_OPTION', `${HEADER_EXPECT_LAST_SEQ} must be an integer >= 0`, {
              details: { option: 'expectLastSeq' },
            }),
          );
        return;
      }
    }
    if (headers !== undefined && (durable || msgId !== undefined || expectText !== undefined)) {
      headers = { ...headers };
      delete headers[HEADER_DURABLE];
      delete headers[HEADER_MSG_ID];
      delete headers[HEADER_EXPECT_LAST_SEQ];
      if (Object.keys(headers).length === 0) headers = undefined;
    }
    const input = { time: p.clock(), topic: env.topic, headers, payloadType: env.payloadType as 0 | 1 | 2, payload: env.payload, msgId };
    if (msgId === undefined) delete input.msgId;
    if (headers === undefined) delete input.headers;
    const id = env.id;
    stream.append(input, p.clock, expectLastSeq).then(
      (r) => {
        if (stream.dedupe.forgottenEarly > 0 && !this.#warnedForgetting.has(stream)) {
          this.#warnedForgetting.add(stream);
          p.logger.warn(
            {
              stream: stream.name,
              maxDuplicateIds: p.maxDuplicateIds,
              duplicateWindowMs: stream.config.duplicateWindowMs,
            },
            'stream: message ids are forgotten before their duplicate window ends; a retry of one is stored again (raise maxDuplicateIds or shorten duplicateWindowMs)',
          );
        }
        if (durable) {
          p.host
            .get()
            .send(
              s,
              envelope(Kind.OK, { id, seq: r.seq, topic: stream.name, headers: r.duplicate ? { [HEADER_DUPLICATE]: '1' } : undefined }),
            );
        }
      },
      (err: unknown) => {
        const error = asCrossbusError(err);
        if (error.code === 'CB_ERR_STORAGE')
          p.host.get().emit({ action: 'storage-error', stream: stream.name, details: { code: error.code, message: error.message } });
        if (durable) p.host.get().replyError(s, id, error);
        else if (error.code !== 'CB_ERR_SEQ_MISMATCH')
          p.logger.warn({ stream: stream.name, code: error.code }, 'stream: could not store a captured message');
      },
    );
  }
}
