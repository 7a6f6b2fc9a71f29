/**
 * Document names and where a document lives on the bus: `project/42` is the topic
 * `sync.project.42` (grants are written on it), its snapshots are published on
 * `sync.project.42.snap`, its conflicts announced on `sync.project.42.conflicts` (no stream keeps
 * those), and its stream is `sync-` and 40 hex digits of SHA-256(topic).
 */
import { DEFAULT_MAX_TOPIC_LENGTH } from '../defaults.js';
import { ConfigError, ValidationError } from '../errors/index.js';
import { encodeUtf8 } from '../protocol/utf8.js';
import type { Awaitable, CryptoProvider } from '../security/crypto.js';
import { topicProblem } from '../topic.js';
import { DEFAULT_SYNC_TOPIC_PREFIX } from './defaults.js';

const SNAPSHOT_SUFFIX = '.snap';
const CONFLICTS_SUFFIX = '.conflicts';
/**
 * Last tokens a document name may not end in: `a/snap` would be the topic of `a`'s snapshots,
 * `a/conflicts` that of its conflict announcements.
 */
export const RESERVED_LAST_TOKENS: readonly string[] = Object.freeze(['snap', 'conflicts']);

/** The topic of document `doc` (`project/42` → `sync.project.42`); throws CB_ERR_TOPIC_INVALID (a document name is a topic). */
export function syncDocTopic(doc: string, prefix: string = DEFAULT_SYNC_TOPIC_PREFIX): string {
  if (typeof prefix !== 'string' || topicProblem(prefix, 'topic') !== undefined) {
    throw new ConfigError(
      'CB_ERR_INVALID_OPTION',
      `sync option topicPrefix must be a topic, got ${JSON.stringify(String(prefix).slice(0, 100))}`,
      {
        details: { option: 'topicPrefix' },
      },
    );
  }
  if (typeof doc !== 'string' || doc.length === 0) throw invalidDoc(String(doc), 'is empty');
  const tokens = doc.split('/');
  for (const token of tokens) {
    if (token.length === 0) throw invalidDoc(doc, 'has an empty token');
    if (token.includes('.')) throw invalidDoc(doc, 'has a token with "."');
    const problem = topicProblem(token, 'topic');
    if (problem !== undefined) throw invalidDoc(doc, `has a token that ${problem}`);
  }
  const last = tokens[tokens.length - 1] as string;
  if (tokens.length > 1 && RESERVED_LAST_TOKENS.includes(last))
    throw invalidDoc(doc, `ends in "${last}", a name reserved for what belongs to a document`);
  const topic = `${prefix}.${tokens.join('.')}`;
  // The longest of the document's topics must fit too.
  const problem = topicProblem(topic + CONFLICTS_SUFFIX, 'topic', DEFAULT_MAX_TOPIC_LENGTH);
  if (problem !== undefined) throw invalidDoc(doc, `makes a topic that ${problem}`);
  return topic;
}

/** The topic a document's snapshots are published on. */
export function syncSnapshotTopic(docTopic: string): string {
  return docTopic + SNAPSHOT_SUFFIX;
}

/** The topic a document's conflicts are announced on (parked, resolved): not captured by its stream. */
export function syncConflictsTopic(docTopic: string): string {
  return docTopic + CONFLICTS_SUFFIX;
}

/** The stream of a document's topic: `sync-` and the first 40 hex digits of its SHA-256. */
export function syncStreamName(docTopic: string, crypto: Pick<CryptoProvider, 'sha256'>): Awaitable<string> {
  const digest = crypto.sha256(encodeUtf8(docTopic));
  return digest instanceof Uint8Array ? streamName(digest) : digest.then(streamName);
}

function streamName(digest: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < 20; i++) hex += (digest[i] as number).toString(16).padStart(2, '0');
  return `sync-${hex}`;
}

function invalidDoc(doc: string, reason: string): ValidationError {
  return new ValidationError('CB_ERR_TOPIC_INVALID', `sync document name ${JSON.stringify(doc.slice(0, 200))} ${reason}`, {
    details: { reason, document: doc.slice(0, 200) },
  });
}
