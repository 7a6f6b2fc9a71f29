/**
 * Durable publishes for a hub without storage of its own: a browser hub (a page, an extension's
 * service worker) hands every durable publish on to a Node hub over a client connection and
 * answers its own client with the Node hub's acknowledgement. The client's msgId goes along, so
 * a publish the client resends after losing this hub (a service worker Chrome stopped) is
 * stored once by the Node hub's duplicate window: nothing acknowledged is lost, nothing doubled.
 *
 * Stream management and consumers stay on the Node hub: STREAM and ACK frames here are refused
 * with CB_ERR_STREAMS_UNAVAILABLE, naming where to go instead.
 */
import { createError } from '../core/errors/index.js';
import { Kind, PayloadType, envelope, type Envelope, type Headers } from '../core/protocol/envelope.js';
import type { BrokerStreams } from '../core/streams/broker-streams.js';
import { asCrossbusError } from '../core/streams/stream.js';
import type { StreamServiceHost } from '../core/streams/stream-service.js';
import { HEADER_DUPLICATE, HEADER_DURABLE, HEADER_MSG_ID } from '../core/streams/wire.js';
import { decodeJson } from '../core/util/json.js';
import { HEADER_BRIDGED, bridgeHops } from './bridge.js';
import type { Bus } from './bus.js';

export interface DurableForwarderOptions {
  /**
   * The bridge between the same two hubs, if there is one: forwarded publishes carry its id, so
   * the bridge does not bring them back to this hub as a second copy. @default none
   */
  bridge?: { readonly id: string };
}

function dataOf(env: Envelope): unknown {
  if (env.payloadType === PayloadType.JSON) return decodeJson(env.payload);
  if (env.payloadType === PayloadType.BYTES) return env.payload.slice();
  return undefined;
}

/** Streams for a broker that forward durable publishes to the hub `remote` is connected to. */
export function forwardDurablePublishes<S>(remote: Bus | Promise<Bus>, options: DurableForwarderOptions = {}): BrokerStreams<S> {
  let host: StreamServiceHost<S> | undefined;
  const elsewhere = (s: S, id: number): void => {
    host?.replyError(
      s,
      id,
      createError(
        'CB_ERR_STREAMS_UNAVAILABLE',
        'this hub forwards durable publishes to another hub: manage streams and consume them there',
      ),
    );
  };
  return {
    attach(h) {
      host = h;
    },
    capture(s, env) {
      if (env.headers?.[HEADER_DURABLE] === undefined) return; // plain publishes cross through a bridge, if at all
      const { [HEADER_DURABLE]: _durable, [HEADER_MSG_ID]: msgId, ...rest } = env.headers;
      const headers: Headers =
        options.bridge === undefined ? rest : { ...rest, [HEADER_BRIDGED]: [...bridgeHops(rest), options.bridge.id].join(',') };
      const id = env.id;
      let data: unknown;
      try {
        data = dataOf(env);
      } catch (err) {
        host?.replyError(s, id, createError('CB_ERR_PROTOCOL', 'a durable publish carries an unreadable JSON payload', { cause: err }));
        return;
      }
      Promise.resolve(remote)
        .then((bus) => bus.publish(env.topic, data, { durable: true, headers, ...(msgId !== undefined ? { msgId } : {}) }))
        .then(
          (ack) =>
            host?.send(
              s,
              envelope(Kind.OK, { id, seq: ack.seq, topic: ack.stream, headers: ack.duplicate ? { [HEADER_DUPLICATE]: '1' } : undefined }),
            ),
          (err: unknown) => host?.replyError(s, id, asCrossbusError(err)),
        );
    },
    onOperation: (s, env) => elsewhere(s, env.id),
    onAck: (s, env) => elsewhere(s, env.id),
    hasMember: () => false,
    leave: () => {},
    sessionClosed: () => {},
    drained: () => {},
  };
}
