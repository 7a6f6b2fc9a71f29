/**
 * A document's names on the bus (the rules are the core's, `syncDocTopic`): `project/42` is
 * published on `sync.project.42`, its snapshots on `sync.project.42.snap`, and both are kept by
 * the stream `sync-<40 hex of SHA-256(topic)>`; its conflicts are announced on
 * `sync.project.42.conflicts`, which no stream keeps. Grants are written on the topics.
 */
import type { CryptoProvider } from '../../core/security/crypto.js';
import { syncConflictsTopic, syncDocTopic, syncSnapshotTopic, syncStreamName } from '../../core/sync/index.js';

/** Where a document lives: its topics and its stream. */
export interface DocNames {
  /** As the application named it: `project/42`. */
  readonly doc: string;
  /** `sync.project.42`: changes are published here. */
  readonly topic: string;
  /** `sync.project.42.snap`: snapshots. */
  readonly snapshotTopic: string;
  /** `sync.project.42.conflicts`: conflicts parked and resolved, announced (not kept by the stream). */
  readonly conflictsTopic: string;
  /** `sync-<hex>`: the stream that keeps both. */
  readonly stream: string;
}

/** Every name of document `doc`; CB_ERR_TOPIC_INVALID for a name that cannot be a topic. */
export async function docNames(doc: string, prefix: string, crypto: Pick<CryptoProvider, 'sha256'>): Promise<DocNames> {
  const topic = syncDocTopic(doc, prefix);
  return {
    doc,
    topic,
    snapshotTopic: syncSnapshotTopic(topic),
    conflictsTopic: syncConflictsTopic(topic),
    stream: await syncStreamName(topic, crypto),
  };
}
