/** Chooses and opens the hub's stream storage (the composition root's share of durable streams). */
import { join } from 'node:path';
import type { BrokerOptions } from '../core/broker/options.js';
import type { Session } from '../core/broker/session.js';
import { ConfigError } from '../core/errors/index.js';
import type { StreamCatalog } from '../core/streams/catalog.js';
import { MemoryCatalog } from '../core/streams/memory-catalog.js';
import { StreamService, type StreamServiceOptions } from '../core/streams/stream-service.js';
import type { Logger } from '../core/util/logger.js';
import { FileCatalog, STREAMS_DIR_NAME } from '../node/streams/file-catalog.js';

/**
 * 'auto': on disk under `<dataDir>/streams` when the hub has a data directory, else in memory.
 * 'disk' needs a data directory. 'memory' keeps streams as long as the process lives. 'off'
 * refuses stream operations with CB_ERR_STREAMS_UNAVAILABLE. A StreamCatalog plugs in another store.
 */
export type StreamStorageChoice = 'auto' | 'disk' | 'memory' | 'off' | StreamCatalog;

/** Stream limits and timings a hub may set (see StreamServiceOptions for each default). */
export type HubStreamOptions = Pick<
  StreamServiceOptions,
  'maxStreams' | 'maxConsumersPerStream' | 'maxDuplicateIds' | 'retentionIntervalMs' | 'saveDelayMs'
>;

export async function openStreams(
  dataDir: string | undefined,
  choice: StreamStorageChoice,
  logger: Logger,
  broker: Pick<BrokerOptions, 'maxTopicLength' | 'maxFrameBytes'>,
  options: HubStreamOptions = {},
): Promise<StreamService<Session> | undefined> {
  if (choice === 'off') return undefined;
  let catalog: StreamCatalog;
  if (typeof choice === 'object') catalog = choice;
  else if (choice === 'memory' || (choice === 'auto' && dataDir === undefined)) catalog = new MemoryCatalog();
  else if (choice === 'disk' || choice === 'auto') {
    if (dataDir === undefined)
      throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', "streamStorage 'disk' needs a dataDir", { details: { option: 'streamStorage' } });
    catalog = new FileCatalog(join(dataDir, STREAMS_DIR_NAME), { logger });
  } else {
    throw new ConfigError(
      'CB_ERR_INVALID_OPTION',
      `streamStorage must be 'auto', 'disk', 'memory', 'off' or a StreamCatalog, got ${String(choice)}`,
      { details: { option: 'streamStorage' } },
    );
  }
  const service = new StreamService<Session>({
    ...options,
    catalog,
    logger,
    ...(broker.maxTopicLength !== undefined ? { maxTopicLength: broker.maxTopicLength } : {}),
    ...(broker.maxFrameBytes !== undefined ? { maxFrameBytes: broker.maxFrameBytes } : {}),
  });
  await service.open();
  return service;
}
