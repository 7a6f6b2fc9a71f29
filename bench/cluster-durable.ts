/**
 * The cluster suite's durable publishes: acknowledged publishes with up to `WINDOW` outstanding (a
 * sliding window, bench/durable.ts's publishWindowed), into a fresh stream per round:
 *
 *   crossbus  bus.publish(topic, data, { durable: true }) from a client of hub 1 (a hub of the
 *             cluster) into a stream created with the defaults (`bus.streams.create`)
 *   nats      js.publish() from a nats.js client of NATS node 1 into an R3 file-storage stream
 *
 * Every acknowledgement must carry a distinct sequence 1..N (none flagged duplicate), and the stream
 * must then hold N messages.
 */
import { connect as natsConnect, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { NatsUser } from '../test/helpers/nats-cluster.js';
import { publishWindowed, type PhaseResult, type PublishAck } from './durable.js';
import type { AppCredentials } from './lib/cluster-setup.js';
import { loadCrossbus } from './pubsub.js';

/** Publishes outstanding at once, on both sides. */
export const WINDOW = 1_000;

/**
 * Where a clustered hub keeps its streams in this row. The JetStream storage of clustered hubs
 * (branch `jetstream`, src/node/cluster/jetstream-*.ts) is not wired yet: the row runs against the
 * hub's default (embedded, file) storage and says so in the table. Once it is, set `hubArgs` to
 * what selects it (if anything: it may be the clustered hub's default) and clear `note`.
 */
export const CROSSBUS_STREAM_STORAGE: { readonly hubArgs: readonly string[]; readonly note: string } = {
  hubArgs: [],
  note: '(embedded storage, JetStream storage not wired yet)',
};

export interface DurablePublisher {
  /** Creates a fresh stream `name` over `subject`'s root; resolves to a publisher into it. */
  stream(name: string, subject: string): Promise<() => Promise<PublishAck>>;
  /** How many messages stream `name` holds. */
  count(name: string): Promise<number>;
  close(): Promise<void>;
}

type CrossbusBus = Awaited<ReturnType<Awaited<ReturnType<typeof loadCrossbus>>['connect']>>;

/** A crossbus client of `url` publishing durably into streams created with the defaults. */
export async function crossbusDurable(url: string, app: AppCredentials, payload: Uint8Array): Promise<DurablePublisher> {
  const { connect } = await loadCrossbus();
  const bus: CrossbusBus = await connect(url, { ...app, reconnect: false });
  return {
    async stream(name, subject) {
      await bus.streams.create({ name, topics: [`${subject}.>`] });
      const topic = `${subject}.data`;
      return () => bus.publish(topic, payload, { durable: true });
    },
    count: async (name) => (await bus.streams.info(name)).state.messages,
    close: () => bus.close(),
  };
}

/** A nats.js client of `server` publishing into R3 file-storage JetStream streams. */
export async function natsDurable(server: string, user: NatsUser, payload: Uint8Array): Promise<DurablePublisher> {
  const nc: NatsConnection = await natsConnect({
    servers: server,
    name: 'bench-durable',
    user: user.user,
    pass: user.password,
    reconnect: false,
  });
  const jsm: JetStreamManager = await nc.jetstreamManager();
  const js: JetStreamClient = nc.jetstream();
  return {
    async stream(name, subject) {
      await jsm.streams.add({ name, subjects: [`${subject}.>`], storage: StorageType.File, num_replicas: 3 });
      const info = await jsm.streams.info(name);
      if (info.config.storage !== StorageType.File || info.config.num_replicas !== 3)
        throw new Error(`stream ${name}: ${info.config.storage} storage, ${info.config.num_replicas} replicas (want file, 3)`);
      const topic = `${subject}.data`;
      return () => js.publish(topic, payload);
    },
    count: async (name) => (await jsm.streams.info(name)).state.messages,
    close: () => nc.close(),
  };
}

/** One round: a fresh stream, N windowed publishes, then the stream must hold N. */
export async function durableRound(
  label: string,
  pub: DurablePublisher,
  stream: string,
  subject: string,
  messages: number,
  timeoutMs: number,
): Promise<PhaseResult> {
  const publishOne = await pub.stream(stream, subject);
  const r = await publishWindowed(label, messages, WINDOW, publishOne, timeoutMs);
  const held = await pub.count(stream);
  if (held !== messages) throw new Error(`${label}: stream ${stream} holds ${held} messages, expected ${messages}`);
  return r;
}
