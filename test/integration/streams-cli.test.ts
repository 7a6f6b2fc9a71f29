/**
 * `crossbus stream ls|info|add|edit|rm|replay|purge`, `crossbus consumer` and `crossbus dlq ls|replay` (the built CLI) against a
 * REAL hub process storing streams on disk. Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus, PublishAck, StreamInfo, StreamRecord } from '../../src/node/index.js';
import { runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { secret as newSecret, testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 30_000 };

let hub: HubProcess;
let bus: Bus;
/** The CLI authenticates as app `test` (may do anything) from the hub's config. */
const creds = (): string[] => ['--url', hub.url, '--data', hub.dataDir, '--name', 'test'];
const cli = (args: string[]) => runCli([...args, ...creds()], 20_000);

/** Durable publishes, up to 100 outstanding at once. */
async function publishAll(messages: Array<{ topic: string; data: unknown; headers?: Record<string, string> }>): Promise<PublishAck[]> {
  const acks: PublishAck[] = [];
  const inflight = new Set<Promise<void>>();
  for (const [i, m] of messages.entries()) {
    if (inflight.size >= 100) await Promise.race(inflight);
    const p: Promise<void> = bus
      .publish(m.topic, m.data, { durable: true, ...(m.headers ? { headers: m.headers } : {}) })
      .then((ack) => {
        acks[i] = ack;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  return acks;
}

async function readAll(name: string): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  for (let from = 1; ; ) {
    const page = await bus.streams.read(name, { fromSeq: from });
    if (page.length === 0) return out;
    out.push(...page);
    from = page[page.length - 1]!.seq + 1;
  }
}

interface Line {
  seq: number;
  time: number;
  topic: string;
  headers: Record<string, string>;
  data?: unknown;
  data_b64?: string;
}
const jsonLines = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

const ORDERS = 1200;

before(async () => {
  hub = await startHubProcess();
  bus = await openBus(hub.url, { reconnect: false });
  await bus.streams.create({ name: 'ORDERS', topics: ['orders.>'] });
  const acks = await publishAll(
    Array.from({ length: ORDERS }, (_, i) => ({
      topic: i % 2 === 0 ? 'orders.created' : 'orders.paid',
      data: i === 6 ? new Uint8Array([1, 2, 3, 250]) : { n: i + 1 },
      ...(i === 0 ? { headers: { traceparent: 'tp-1' } } : {}),
    })),
  );
  assert.deepEqual(
    acks.map((a) => a.seq),
    Array.from({ length: ORDERS }, (_, i) => i + 1),
  );
});

after(async () => {
  await closeBus(bus);
  await hub?.stop();
});

describe('crossbus stream', () => {
  test('ls: a table with ORDERS and its dead-letter stream; --json is the StreamInfo array', T, async () => {
    const r = await cli(['stream', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}NAME +TOPICS +MESSAGES +BYTES +SEQ +CONSUMERS +STATUS\n/);
    assert.match(r.stdout, /\n {2}ORDERS +orders\.> +1200 +\d+(\.\d)? KiB +1\.\.1200 +0 +ok\n/);
    assert.match(r.stdout, /\n {2}ORDERS\.DLQ +\(dead letters of ORDERS\) +0 +0 B +- +0 +ok\n/);
    const j = await cli(['stream', 'ls', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const infos = JSON.parse(j.stdout) as StreamInfo[];
    const orders = infos.find((s) => s.name === 'ORDERS');
    assert.ok(orders);
    assert.deepEqual(orders.state, (await bus.streams.info('ORDERS')).state);
    assert.equal(infos.find((s) => s.name === 'ORDERS.DLQ')?.deadLetterOf, 'ORDERS');
  });

  test('info: fields and each consumer; --json adds the dead-letter count', T, async () => {
    const consumer = bus.consume('ORDERS', { durable: 'billing', maxAckPending: 10 });
    await consumer.ready;
    let acked = 0;
    for await (const m of consumer) {
      await m.ack();
      if (++acked === 5) break;
    }
    await until(async () => (await bus.streams.info('ORDERS')).consumers[0]?.ackFloor === 5, 5_000, 'ack floor 5');
    const r = await cli(['stream', 'info', 'ORDERS']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Stream ORDERS\n/);
    assert.match(r.stdout, /topics: +orders\.>\n/);
    assert.match(r.stdout, /messages: +1200 \(/);
    assert.match(r.stdout, /sequence: +1\.\.1200\n/);
    assert.match(r.stdout, /duplicate window: +2m \(1200 ids\)\n/);
    assert.match(r.stdout, /durability: +fsync\n/);
    assert.match(r.stdout, /dead letters: +0\n/);
    assert.match(r.stdout, /status: +ok\n/);
    assert.match(r.stdout, /Consumers \(1\):\n {2}DURABLE +ACK FLOOR +PENDING +WAITING +MEMBERS\n {2}billing +5 +\d+ +\d+ +[01]\n/);
    const j = await cli(['stream', 'info', 'ORDERS', '--json']);
    const info = JSON.parse(j.stdout) as StreamInfo & { deadLetters: number };
    assert.equal(info.name, 'ORDERS');
    assert.equal(info.deadLetters, 0);
    assert.equal(info.consumers[0]?.durable, 'billing');
    consumer.close();
  });

  test('replay: every message as a JSON line in order; a progress bar on stderr for more than 1000', T, async () => {
    const r = await cli(['stream', 'replay', 'ORDERS']);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    assert.equal(lines.length, ORDERS);
    assert.deepEqual(
      lines.map((l) => l.seq),
      Array.from({ length: ORDERS }, (_, i) => i + 1),
    );
    assert.deepEqual(lines[0], { ...lines[0], topic: 'orders.created', headers: { traceparent: 'tp-1' }, data: { n: 1 } });
    assert.deepEqual(lines[1]!.data, { n: 2 });
    assert.equal(lines[1]!.topic, 'orders.paid');
    assert.deepEqual(
      { data: lines[6]!.data, data_b64: lines[6]!.data_b64 },
      { data: undefined, data_b64: Buffer.from([1, 2, 3, 250]).toString('base64') },
    );
    assert.ok(lines.every((l) => typeof l.time === 'number' && l.time > 0));
    // stderr is a pipe here: a line per 10%, ending at 100%.
    assert.match(r.stderr, /^replay ORDERS \[[#-]+\] \d+% \d+\/1200/);
    assert.match(r.stderr, /replay ORDERS \[#{20}\] 100% 1200\/1200 .*msg\/s\n$/);
    assert.ok(r.stderr.split('\n').length <= 13, r.stderr);
    assert.doesNotMatch(r.stderr, /\r/);
  });

  test('replay ranges: --from-seq/--to-seq, --since; --progress and --no-progress', T, async () => {
    const some = await cli(['stream', 'replay', 'ORDERS', '--from-seq', '1190', '--to-seq', '1195']);
    assert.equal(some.code, 0, some.stderr);
    assert.deepEqual(
      jsonLines(some.stdout).map((l) => l.seq),
      [1190, 1191, 1192, 1193, 1194, 1195],
    );
    assert.equal(some.stderr, '', 'no bar for 6 messages');

    const [m1100] = await bus.streams.read('ORDERS', { fromSeq: 1100, maxMessages: 1 });
    const since = await cli(['stream', 'replay', 'ORDERS', '--since', new Date(m1100!.time).toISOString(), '--no-progress']);
    assert.equal(since.code, 0, since.stderr);
    const lines = jsonLines(since.stdout);
    const first = lines[0]!;
    assert.ok(first.seq <= 1100 && first.time >= m1100!.time, `starts at ${first.seq}`);
    if (first.seq > 1) {
      const [before] = await bus.streams.read('ORDERS', { fromSeq: first.seq - 1, maxMessages: 1 });
      assert.ok(before!.time < m1100!.time, 'the message before was stored earlier');
    }
    assert.equal(lines[lines.length - 1]!.seq, ORDERS);
    assert.equal(since.stderr, '', '--no-progress');
    const epoch = await cli(['stream', 'replay', 'ORDERS', '--since', String(m1100!.time), '--no-progress']);
    assert.equal(epoch.stdout, since.stdout, 'ms epoch and ISO time agree');

    const shown = await cli(['stream', 'replay', 'ORDERS', '--to-seq', '3', '--progress']);
    assert.equal(jsonLines(shown.stdout).length, 3);
    assert.match(shown.stderr, /replay ORDERS \[#+\] 100% 3\/3/);
  });

  test('purge: refused without --yes (exit 2); up to a seq, then all', T, async () => {
    await bus.streams.create({ name: 'SCRATCH', topics: ['scratch.>'] });
    await publishAll(Array.from({ length: 10 }, (_, i) => ({ topic: 'scratch.x', data: i })));
    const refused = await cli(['stream', 'purge', 'SCRATCH']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refusing to purge "SCRATCH" without --yes/);
    assert.equal((await bus.streams.info('SCRATCH')).state.messages, 10);

    const some = await cli(['stream', 'purge', 'SCRATCH', '--up-to-seq', '4', '--yes']);
    assert.equal(some.code, 0, some.stderr);
    assert.equal(some.stdout, 'purged 4 messages from SCRATCH\n');
    const state = (await bus.streams.info('SCRATCH')).state;
    assert.deepEqual([state.firstSeq, state.lastSeq, state.messages], [5, 10, 6]);
    const all = await cli(['stream', 'purge', 'SCRATCH', '--yes']);
    assert.equal(all.stdout, 'purged 6 messages from SCRATCH\n');
    assert.equal((await bus.streams.info('SCRATCH')).state.messages, 0);
    const ls = await cli(['stream', 'ls']);
    assert.match(ls.stdout, /\n {2}SCRATCH +scratch\.> +0 +0 B +- +0 +ok\n/);
  });
});

describe('crossbus dlq', () => {
  const JOBS = 6;

  before(async () => {
    await bus.streams.create({ name: 'JOBS', topics: ['jobs.>'] });
    await publishAll(
      Array.from({ length: JOBS }, (_, i) => ({
        topic: `jobs.kind${i % 2}`,
        data: i === 2 ? new Uint8Array([7, 7]) : { job: i + 1 },
        headers: { 'x-job': String(i + 1) },
      })),
    );
    // Every delivery fails: nak at maxDeliver 1, term for the last one.
    const consumer = bus.consume('JOBS', { maxDeliver: 1 });
    await consumer.ready;
    let seen = 0;
    for await (const m of consumer) {
      if (m.seq === JOBS) await m.term('bad payload');
      else await m.nak();
      if (++seen === JOBS) break;
    }
    consumer.close();
    await until(async () => (await bus.streams.info('JOBS.DLQ')).state.messages === JOBS, 5_000, 'the dead letters');
  });

  test('ls: a table of the dead letters; --json; ORDERS has none', T, async () => {
    const r = await cli(['dlq', 'ls', 'JOBS']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Dead letters of JOBS \(6\):\n {2}DLQ SEQ +TOPIC +REASON +ATTEMPTS +SOURCE SEQ +ORIGINAL TIME\n/);
    assert.match(r.stdout, /\n +1 +jobs\.kind0 +max-deliver +1 +1 +\d{4}-\d\d-\d\dT/);
    assert.match(r.stdout, /\n +6 +jobs\.kind1 +term: bad payload +1 +6 +\d{4}-/);
    const j = JSON.parse((await cli(['dlq', 'ls', 'JOBS', '--json'])).stdout) as Array<Record<string, unknown>>;
    assert.equal(j.length, JOBS);
    assert.deepEqual(
      [j[0]!.seq, j[0]!.topic, j[0]!.reason, j[0]!.attempts, j[0]!.sourceStream, j[0]!.sourceSeq],
      [1, 'jobs.kind0', 'max-deliver', 1, 'JOBS', 1],
    );
    assert.deepEqual([j[2]!.data, j[2]!.data_b64], [undefined, 'Bwc=']);
    const none = await cli(['dlq', 'ls', 'ORDERS']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, 'No dead letters in ORDERS.\n');
    const info = await cli(['stream', 'info', 'JOBS']);
    assert.match(info.stdout, /dead letters: +6 \(JOBS\.DLQ; 'crossbus dlq ls JOBS'\)/);
  });

  test('replay: back in the source stream (data, headers, msgId), the DLQ purged, progress with --progress', T, async () => {
    const r = await cli(['dlq', 'replay', 'JOBS', '--progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'replayed 6 dead letters of JOBS (dlq seq 1..6): 6 stored, 0 already stored (duplicate msgId); purged 6 from JOBS.DLQ\n',
    );
    assert.match(r.stderr, /dlq replay JOBS \[#{20}\] 100% 6\/6/);
    const dlq = await bus.streams.info('JOBS.DLQ');
    assert.equal(dlq.state.messages, 0);
    const records = await readAll('JOBS');
    assert.equal(records.length, 2 * JOBS);
    const replayed = records.slice(JOBS);
    assert.deepEqual(
      replayed.map((x) => x.msgId),
      Array.from({ length: JOBS }, (_, i) => `dlq-JOBS-${i + 1}`),
    );
    for (const [i, x] of replayed.entries()) {
      const original = records[i]!;
      assert.equal(x.topic, original.topic);
      assert.deepEqual(x.data, original.data);
      assert.deepEqual(x.headers, { 'x-job': String(i + 1) }, 'original headers, no cb-dlq-*');
    }
    const again = await cli(['dlq', 'replay', 'JOBS']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, 'no dead letters in JOBS: nothing to replay\n');
  });
});

describe('bad input', () => {
  test('an unknown stream: exit 1 with CB_ERR_STREAM_NOT_FOUND', T, async () => {
    for (const args of [
      ['stream', 'info', 'NOPE'],
      ['stream', 'replay', 'NOPE'],
      ['stream', 'purge', 'NOPE', '--yes'],
      ['dlq', 'ls', 'NOPE'],
      ['dlq', 'replay', 'NOPE'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^crossbus: .*NOPE.* \(CB_ERR_STREAM_NOT_FOUND\)\n$/, args.join(' '));
    }
    const invalid = await cli(['stream', 'info', 'bad name!']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /CB_ERR_INVALID_OPTION/);
  });

  test('missing arguments and bad flags: exit 2 with a hint', T, async () => {
    for (const args of [
      ['stream'],
      ['stream', 'info'],
      ['stream', 'replay'],
      ['stream', 'purge'],
      ['dlq'],
      ['dlq', 'ls'],
      ['dlq', 'replay'],
      ['stream', 'replay', 'ORDERS', '--from-seq', 'zero'],
      ['stream', 'ls', '--bogus'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^crossbus: .+\nRun 'crossbus (stream|dlq) --help' for usage\.\n$/, args.join(' '));
      assert.equal(r.stdout, '');
    }
  });

  test('--help on every level; the main help lists stream and dlq', T, async () => {
    for (const args of [
      ['stream', '--help'],
      ['stream', 'replay', '--help'],
      ['dlq', '-h'],
      ['dlq', 'replay', '--help'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, new RegExp(`^Usage:\\n {2}crossbus ${args[0]} ls`));
    }
    const main = await runCli(['--help']);
    assert.match(main.stdout, /crossbus stream ls\|info\|add\|edit\|rm\|replay\|purge/);
    assert.match(main.stdout, /crossbus dlq ls\|replay <stream>/);
  });
});

describe('stream add|edit|rm and consumer ls|info|add|rm', () => {
  test('add with limits; edit keeps the messages and durable consumers; rm with --yes', T, async () => {
    const add = await cli(['stream', 'add', 'ADMIN', '--topic', 'admin.a.>', '--max-age', '7d', '--max-bytes', '1MiB', '--json']);
    assert.equal(add.code, 0, add.stderr);
    const created = JSON.parse(add.stdout) as StreamInfo;
    assert.deepEqual([created.topics, created.maxAgeMs, created.maxBytes], [['admin.a.>'], 7 * 86_400_000, 1024 * 1024]);
    await bus.publish('admin.a.x', { n: 1 }, { durable: true });
    await bus.publish('admin.a.x', { n: 2 }, { durable: true });

    const cadd = await cli(['consumer', 'add', 'ADMIN', 'worker', '--deliver', 'seq:2', '--ack-wait', '10s', '--max-deliver', '3']);
    assert.equal(cadd.code, 0, cadd.stderr);
    assert.match(cadd.stdout, /^consumer worker of ADMIN is ready\n/);
    const ls = JSON.parse((await cli(['consumer', 'ls', 'ADMIN', '--json'])).stdout) as Array<{ durable: string; ackFloor: number }>;
    assert.deepEqual(
      ls.map((c) => [c.durable, c.ackFloor]),
      [['worker', 1]],
    );

    const edit = await cli(['stream', 'edit', 'ADMIN', '--topic', 'admin.a.>,admin.b.>', '--max-age', 'none', '--max-msgs', '100']);
    assert.equal(edit.code, 0, edit.stderr);
    assert.match(edit.stdout, /^updated stream ADMIN\n/);
    const info = await bus.streams.info('ADMIN');
    assert.deepEqual(
      [info.topics, info.maxAgeMs, info.maxBytes, info.maxMessages, info.state.messages],
      [['admin.a.>', 'admin.b.>'], undefined, 1024 * 1024, 100, 2],
    );
    await bus.publish('admin.b.y', { n: 3 }, { durable: true });
    // The durable consumer kept its position: it starts at seq 2.
    const c = bus.consume('ADMIN', { durable: 'worker' });
    const seqs: number[] = [];
    for await (const m of c) {
      seqs.push(m.seq);
      await m.ack();
      if (seqs.length === 2) break;
    }
    c.close();
    assert.deepEqual(seqs, [2, 3]);
    const one = JSON.parse((await cli(['consumer', 'info', 'ADMIN', 'worker', '--json'])).stdout) as { stream: string; ackFloor: number };
    assert.deepEqual([one.stream, one.ackFloor], ['ADMIN', 3]);

    const [noYes, gone] = await Promise.all([cli(['consumer', 'rm', 'ADMIN', 'worker']), cli(['consumer', 'info', 'ADMIN', 'nobody'])]);
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /without --yes/);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /CB_ERR_CONSUMER_NOT_FOUND/);
    assert.equal((await cli(['consumer', 'rm', 'ADMIN', 'worker', '--yes'])).stdout, 'deleted consumer worker of ADMIN\n');
    assert.equal((await bus.streams.info('ADMIN')).consumers.length, 0);

    const keep = await cli(['stream', 'rm', 'ADMIN']);
    assert.equal(keep.code, 2);
    assert.match(keep.stderr, /refusing to delete stream "ADMIN" without --yes/);
    const rm = await cli(['stream', 'rm', 'ADMIN', '--yes']);
    assert.equal(rm.stdout, 'deleted stream ADMIN\n');
    await assert.rejects(bus.streams.info('ADMIN'), (err: Error & { code?: string }) => err.code === 'CB_ERR_STREAM_NOT_FOUND');
  });

  test('bad stream settings are usage errors before connecting; hub refusals exit 1', T, async () => {
    for (const [args, re] of [
      [['stream', 'add', 'BAD'], /a stream needs at least one --topic <pattern>/],
      [['stream', 'add', 'BAD', '--topic', 'bad.>', '--max-age', 'soon'], /--max-age takes a duration/],
      [['stream', 'add', 'BAD', '--topic', 'bad.>', '--durability', 'maybe'], /--durability takes fsync or interval/],
      [['consumer', 'add', 'ORDERS', 'w', '--deliver', 'someday'], /--deliver takes all, new, last-per-topic/],
      [['consumer', 'info', 'ORDERS'], /consumer info takes <stream> <name>, got 1 argument/],
    ] as Array<[string[], RegExp]>) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    const overlap = await cli(['stream', 'add', 'OVERLAP', '--topic', 'orders.created']);
    assert.equal(overlap.code, 1);
    assert.match(overlap.stderr, /overlaps orders\.> of stream ORDERS \(CB_ERR_STREAM_EXISTS\)/);
    const missing = await cli(['stream', 'edit', 'NOPE', '--max-msgs', '5']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CB_ERR_STREAM_NOT_FOUND/);
  });
});

describe('dlq replay and the hub rate limit', () => {
  test('an app limited below the pace: the replay slows down and finishes, without being cut off as abusive', {
    timeout: 60_000,
  }, async () => {
    const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
    const opsSecret = newSecret();
    (config.apps as Record<string, unknown>).ops = { secret: opsSecret, roles: ['all'], rate: { perSecond: 200, burst: 50 } };
    const limited = await startHubProcess([], { config });
    const fast = await openBus(limited.url, { reconnect: false });
    try {
      const n = 400;
      await fast.streams.create({ name: 'SLOW', topics: ['slow.>'] });
      for (let i = 0; i < n; i++) await fast.publish('slow.x', { i }, { durable: true });
      const consumer = fast.consume('SLOW', { maxDeliver: 1, maxAckPending: 500 });
      await consumer.ready;
      let seen = 0;
      for await (const m of consumer) {
        void m.nak();
        if (++seen === n) break;
      }
      consumer.close();
      await until(async () => (await fast.streams.info('SLOW.DLQ')).state.messages === n, 10_000, 'the dead letters');

      const started = Date.now();
      const secretFile = join(limited.dataDir, 'ops.secret');
      writeFileSync(secretFile, `${opsSecret}\n`, { mode: 0o600 });
      const r = await runCli(['dlq', 'replay', 'SLOW', '--url', limited.url, '--name', 'ops', '--secret-file', secretFile], 40_000);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(
        r.stdout,
        /^replayed 400 dead letters of SLOW \(dlq seq 1\.\.400\): 400 stored, 0 already stored \(duplicate msgId\); purged 400 from SLOW\.DLQ; rate-limited \d+ times, slowed to \d+\/s\n$/,
      );
      const refusals = Number(/rate-limited (\d+) times/.exec(r.stdout)?.[1]);
      assert.ok(refusals < 25, `${refusals} refusals (the hub cuts an app off at 50 in 10 s)`);
      assert.ok(Date.now() - started >= 1000, 'took the time the limit asks for');
      assert.equal((await fast.streams.info('SLOW')).state.messages, 2 * n);
      assert.equal((await fast.streams.info('SLOW.DLQ')).state.messages, 0);
    } finally {
      await closeBus(fast);
      await limited.stop();
    }
  });
});

describe('default credentials', () => {
  test('next to a hub with its own default config the commands authenticate as "admin"', T, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crossbus-streams-cli-'));
    const own = await startHubProcess(['--data', dataDir]);
    try {
      const r = await runCli(['stream', 'ls', '--url', own.url, '--data', dataDir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'No streams.\n');
      const missing = await runCli(['stream', 'ls', '--url', own.url, '--data', dataDir, '--name', 'nobody']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /app "nobody" is not in .*crossbus\.config\.json: pass --name or set CROSSBUS_NAME/);
    } finally {
      await own.stop();
    }
  });
});
