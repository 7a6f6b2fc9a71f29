/**
 * A document's stream on the hub: created by the first replica that opens the document (every
 * replica asks with the same config, which the hub takes as the same stream), and the latest
 * snapshot in it, for a replica that has fallen behind the stream's first entry. Runtime-neutral.
 */
import { isCrossbusError } from '../../core/errors/index.js';
import type { StreamInfo } from '../../core/streams/wire.js';
import type { Bus } from '../bus.js';
import type { StreamMessage } from '../stream-message.js';
import type { DocNames } from './names.js';

/**
 * The document's stream, created when it does not exist. A stream of the same name created with
 * other limits (by an operator, say) is used as it is; a topic another stream captures already is
 * the hub's CB_ERR_STREAM_EXISTS naming that stream.
 */
export async function ensureStream(bus: Bus, names: DocNames): Promise<StreamInfo> {
  try {
    return await bus.streams.create({ name: names.stream, topics: [names.topic, names.snapshotTopic] });
  } catch (err) {
    const details = isCrossbusError(err) ? err.details : undefined;
    if (isCrossbusError(err) && err.code === 'CB_ERR_STREAM_EXISTS' && details?.stream === names.stream && details.pattern === undefined) {
      return bus.streams.info(names.stream);
    }
    throw err;
  }
}

/**
 * The last snapshot the stream holds, or undefined when it holds none. Read with a consumer that
 * delivers the last message of each topic: they are all at or below the stream's last seq, and
 * the message at that seq is the last of its topic, so it ends the list.
 */
export async function latestSnapshot(bus: Bus, names: DocNames): Promise<StreamMessage<unknown> | undefined> {
  const { state } = await bus.streams.info(names.stream);
  if (state.messages === 0) return undefined;
  const consumer = bus.consume<unknown>(names.stream, { deliver: 'last-per-topic' });
  let snapshot: StreamMessage<unknown> | undefined;
  try {
    for await (const msg of consumer) {
      if (msg.topic === names.snapshotTopic) snapshot = msg;
      if (msg.seq >= state.lastSeq) break;
    }
  } finally {
    consumer.unsubscribe();
  }
  return snapshot;
}
