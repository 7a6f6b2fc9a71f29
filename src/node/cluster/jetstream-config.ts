/**
 * A crossbus log's settings as a JetStream stream's, and making the stream be so: created when
 * missing, updated when it differs (a crossbus `update`, or another hub that opened it with other
 * settings first: the last one to open it wins, as the catalog's saved config does).
 */
import type { JetStreamManager, StreamConfig, StreamInfo } from 'nats';
import type { RetentionLimits } from '../../core/streams/storage.js';
import { JS_STREAM_NAME_IN_USE, JS_STREAM_NOT_FOUND, jetStreamFailure, jsErrCode } from './jetstream-errors.js';
import type { LogNames } from './jetstream-names.js';

/** What happens when a stream is at `maxMessages` or `maxBytes`. */
export type DiscardPolicy = 'old' | 'new';

export interface LogSettings {
  names: LogNames;
  retention: RetentionLimits;
  /** 0: JetStream does not de-duplicate (no Nats-Msg-Id is sent). */
  duplicateWindowMs: number;
  replicas: number;
  discard: DiscardPolicy;
}

const NS_PER_MS = 1_000_000;

/** The stream settings crossbus decides; everything else stays JetStream's default. */
export function streamConfigOf(s: LogSettings): Partial<StreamConfig> {
  const r = s.retention;
  const config: Partial<StreamConfig> = {
    name: s.names.stream,
    subjects: [s.names.filter],
    storage: 'file' as StreamConfig['storage'],
    retention: 'limits' as StreamConfig['retention'],
    discard: s.discard as StreamConfig['discard'],
    num_replicas: s.replicas,
    max_age: (r.maxAgeMs ?? 0) * NS_PER_MS,
    max_bytes: r.maxBytes ?? -1,
    max_msgs: r.maxMessages ?? -1,
    max_msgs_per_subject: r.maxMessagesPerTopic ?? -1,
    // No republish: the appending hub tells the others (jetstream-notices.ts), at a fraction of its cost.
  };
  if (s.duplicateWindowMs > 0) {
    // JetStream refuses a window longer than max_age.
    const window = r.maxAgeMs === undefined ? s.duplicateWindowMs : Math.min(s.duplicateWindowMs, r.maxAgeMs);
    config.duplicate_window = window * NS_PER_MS;
  }
  return config;
}

const COMPARED = [
  'subjects',
  'discard',
  'num_replicas',
  'max_age',
  'max_bytes',
  'max_msgs',
  'max_msgs_per_subject',
  'duplicate_window',
] as const;

function differs(have: StreamConfig, want: Partial<StreamConfig>): boolean {
  return COMPARED.some((k) => want[k] !== undefined && JSON.stringify(have[k]) !== JSON.stringify(want[k]));
}

/** Creates or updates the stream; CB_ERR_STORAGE when JetStream refuses or cannot be reached. */
export async function ensureStream(jsm: JetStreamManager, settings: LogSettings): Promise<StreamInfo> {
  const want = streamConfigOf(settings);
  const name = settings.names.stream;
  for (let attempt = 0; ; attempt++) {
    try {
      let info: StreamInfo | undefined;
      try {
        info = await jsm.streams.info(name);
      } catch (err) {
        if (jsErrCode(err) !== JS_STREAM_NOT_FOUND) throw err;
      }
      if (info === undefined) return await jsm.streams.add(want);
      if (!differs(info.config, want)) return info;
      // A republish (streams created before the notices) cannot be taken away on nats-server 2.9:
      // the update keeps what the stream has, and the hubs still listen to it (jetstream-watch.ts).
      return await jsm.streams.update(name, { ...info.config, ...want });
    } catch (err) {
      // Another hub created it between our info and add: look again, once.
      if (attempt === 0 && jsErrCode(err) === JS_STREAM_NAME_IN_USE) continue;
      throw jetStreamFailure('open', name, err);
    }
  }
}
