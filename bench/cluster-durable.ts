/**
 * The cluster suite's durable publishes: acknowledged publishes with up to `WINDOW` outstanding (a
 * sliding window, bench/durable.ts's publishWindowed), into a fresh stream per round:
 *
 *   crossbus  bus.publish(topic, data, { durable: true }) from a client of hub 1 (a hub of the
 *             cluster) into a stream created through the hub (`bus.streams.create`, defaults): a
 *             clustered hub keeps it in JetStream, file storage, 3 replicas (`--cluster-replicas`)
 *   nats      js.publish() from a nats.js client of NATS node 1 into an R3 file-storage stream
 *
 * Every acknowledgement must carry a distinct sequence 1..N (none flagged duplicate), and the stream
 * must then hold N messages. After each round `checkJetStream` asks the cluster itself, not the
 * publisher, where the messages are: a JetStream stream with file storage and 3 replicas, each of
 * the three nodes' copies holding N (`/jsz`). A crossbus row on any other storage fails there.
 */
import { connect as natsConnect, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { logNames } from '../src/node/cluster/jetstream-names.js';
import { DEFAULT_JETSTREAM_PREFIX } from '../src/node/defaults.js';
import type { NatsCluster, NatsUser } from '../test/helpers/nats-cluster.js';
import { publishWindowed, type PhaseResult, type PublishAck } from './durable.js';
import type { AppCredentials } from './lib/cluster-setup.js';
import { note } from './lib/procs.js';
import { fmtInt, loadCrossbus } from './pubsub.js';

/** Publishes outstanding at once, on both sides. */
export const WINDOW = 1_000;
/** Replicas both sides' streams must have: the hubs' default (`--cluster-replicas`) and the peer's. */
export const REPLICAS = 3;
/** How long the followers' copies may take to catch up with the leader's after the last ack. */
const REPLICA_CATCH_UP_MS = 15_000;

export interface DurablePublisher {
  /** Creates a fresh stream `name` over `subject`'s root; resolves to a publisher into it. */
  stream(name: string, subject: string): Promise<() => Promise<PublishAck>>;
  /** How many messages stream `name` holds, as the publisher's side reports it. */
  count(name: string): Promise<number>;
  /** The JetStream stream that holds stream `name`'s messages. */
  jetStreamName(name: string): string;
  /** Deletes stream `name` (after its round: every round starts on a cluster of the same size). */
  remove(name: string): Promise<void>;
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
    // The hubs' prefix is the default: the suite's hubs set no `streamPrefix` (config or code).
    jetStreamName: (name) => logNames(DEFAULT_JETSTREAM_PREFIX, name, 'log').stream,
    remove: (name) => bus.streams.delete(name),
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
      await jsm.streams.add({ name, subjects: [`${subject}.>`], storage: StorageType.File, num_replicas: REPLICAS });
      const topic = `${subject}.data`;
      return () => js.publish(topic, payload);
    },
    count: async (name) => (await jsm.streams.info(name)).state.messages,
    jetStreamName: (name) => name,
    remove: async (name) => void (await jsm.streams.delete(name)),
    close: () => nc.close(),
  };
}

/** Asks the NATS cluster where a round's messages are: its own JetStream API and every node's `/jsz`. */
export class JetStreamProbe {
  private constructor(
    private readonly nats: NatsCluster,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(nats: NatsCluster, user: NatsUser): Promise<JetStreamProbe> {
    const nc = await natsConnect({ servers: nats.urls[0], name: 'bench-probe', user: user.user, pass: user.password, reconnect: false });
    return new JetStreamProbe(nats, nc, await nc.jetstreamManager());
  }

  /**
   * Throws unless `stream` is a JetStream stream with file storage and REPLICAS replicas (a leader and
   * the others current) holding exactly `messages`, sequences 1..messages, and every node's copy holds them.
   * Resolves to the stream's leader (the node that answered the publishes' PubAcks).
   */
  async check(label: string, stream: string, messages: number): Promise<string> {
    let info: Awaited<ReturnType<JetStreamManager['streams']['info']>>;
    try {
      info = await this.jsm.streams.info(stream);
    } catch (err) {
      throw new Error(`${label}: no JetStream stream ${stream} (${String(err)}): the messages are not in JetStream`);
    }
    const { config, state, cluster } = info;
    const problems: string[] = [];
    if (config.storage !== StorageType.File) problems.push(`${config.storage} storage`);
    if (config.num_replicas !== REPLICAS) problems.push(`${config.num_replicas} replicas`);
    if (state.messages !== messages || state.first_seq !== 1 || state.last_seq !== messages)
      problems.push(`holds ${state.messages} messages, seq ${state.first_seq}..${state.last_seq}`);
    const leader = cluster?.leader ?? '';
    const replicas = cluster?.replicas ?? [];
    if (leader === '' || replicas.length !== REPLICAS - 1) problems.push(`leader ${leader || 'none'}, ${replicas.length} followers`);
    if (problems.length > 0)
      throw new Error(
        `${label}: JetStream stream ${stream}: ${problems.join(', ')} (want file storage, ${REPLICAS} replicas, ${messages} messages)`,
      );
    await this.#everyCopyHolds(label, stream, messages);
    return leader;
  }

  /** Each node's `/jsz` reports its own copy: waits until all REPLICAS of them hold `messages`. */
  async #everyCopyHolds(label: string, stream: string, messages: number): Promise<void> {
    const deadline = Date.now() + REPLICA_CATCH_UP_MS;
    for (;;) {
      const held = await Promise.all(this.nats.nodes.map((_, n) => this.#copyOn(n, stream)));
      const full = held.filter((m) => m === messages).length;
      if (full >= REPLICAS) return;
      if (Date.now() >= deadline)
        throw new Error(
          `${label}: JetStream stream ${stream}: copies per node ${JSON.stringify(held)} after ${REPLICA_CATCH_UP_MS} ms (want ${REPLICAS} × ${messages})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async #copyOn(node: number, stream: string): Promise<number | null> {
    interface Jsz {
      account_details?: Array<{ stream_detail?: Array<{ name: string; state: { messages: number } }> }>;
    }
    const jsz = (await this.nats.monitor(node, 'jsz?accounts=true&streams=true')) as Jsz;
    for (const a of jsz.account_details ?? []) for (const s of a.stream_detail ?? []) if (s.name === stream) return s.state.messages;
    return null;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

/**
 * One round: a fresh stream, N windowed publishes (the timed part), then the publisher's side must
 * count N and JetStream must hold them in REPLICAS file copies; the stream is deleted after.
 */
export async function durableRound(
  label: string,
  pub: DurablePublisher,
  probe: JetStreamProbe,
  stream: string,
  subject: string,
  messages: number,
  timeoutMs: number,
): Promise<PhaseResult> {
  const publishOne = await pub.stream(stream, subject);
  const r = await publishWindowed(label, messages, WINDOW, publishOne, timeoutMs);
  const held = await pub.count(stream);
  if (held !== messages) throw new Error(`${label}: stream ${stream} holds ${held} messages, expected ${messages}`);
  const jetStream = pub.jetStreamName(stream);
  const leader = await probe.check(label, jetStream, messages);
  note(`cluster: ${label}: JetStream stream ${jetStream}: file, R${REPLICAS}, leader ${leader}, ${fmtInt(messages)} on every copy`);
  await pub.remove(stream);
  return r;
}
