/**
 * `crossbus stream` and `crossbus dlq` without a hub: flag parsing, help, output formats, and the
 * replay logic against an in-memory fake of the client's streams API.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CrossbusError, createError } from '../../src/core/errors/index.js';
import type { PublishAck, StreamInfo, StreamRecord, StreamsClient } from '../../src/cli/commands/streams-api.js';
import { DLQ_HELP, REPLAY_WINDOW, dlqCommand } from '../../src/cli/commands/dlq.js';
import { STREAM_HELP, seqAtTime, streamCommand } from '../../src/cli/commands/stream.js';
import type { ClientFlags, StreamIo } from '../../src/cli/commands/streams.js';
import {
  deadLetter,
  formatBytes,
  formatDeadLetters,
  formatMs,
  formatStreamInfo,
  formatStreamList,
  originalHeaders,
  parseSeqFlag,
  parseSince,
  recordJson,
  recordLine,
  streamInfoJson,
} from '../../src/cli/commands/streams-format.js';
import { DEFAULT_REPLAY_RATE } from '../../src/cli/defaults.js';
import { configOf, streamConfigFromFlags } from '../../src/cli/commands/stream-config-flags.js';

const T0 = Date.UTC(2025, 0, 31, 12, 0, 0);

function info(name: string, over: Partial<StreamInfo> = {}, state: Partial<StreamInfo['state']> = {}): StreamInfo {
  return {
    name,
    topics: [`${name.toLowerCase()}.>`],
    duplicateWindowMs: 120_000,
    durability: 'fsync',
    consumers: [],
    ...over,
    state: { firstSeq: 1, lastSeq: 0, messages: 0, bytes: 0, ...state },
  };
}

const notFound = (name: string): CrossbusError => createError('CB_ERR_STREAM_NOT_FOUND', `stream ${name} not found`);

/** An in-memory hub: streams with records; durable publishes go to the stream whose name is the topic's first token upper-cased. */
const unused = (): never => {
  throw new Error('not used by these tests');
};

class FakeClient implements StreamsClient {
  readonly records = new Map<string, StreamRecord[]>();
  readonly configs = new Map<string, StreamInfo>();
  readonly reads: Array<{ name: string; fromSeq?: number; maxMessages?: number }> = [];
  readonly published: Array<{ topic: string; data: unknown; msgId: string; headers?: Record<string, string> }> = [];
  readonly msgIds = new Map<string, number>();
  readonly purges: Array<{ name: string; upToSeq?: number }> = [];
  maxInflight = 0;
  private inflight = 0;
  closed = false;
  /** Makes the publish of this topic fail. */
  failTopic: string | undefined;
  /** Pages are cut at this many records, whatever was asked. */
  pageCap = Infinity;
  /** Decides each publish before it is stored: an error refuses it. */
  admit: (() => CrossbusError | undefined) | undefined;

  add(config: StreamInfo, records: Array<Omit<StreamRecord, 'seq'> & { seq?: number }> = []): void {
    this.configs.set(config.name, config);
    const list: StreamRecord[] = [];
    let seq = 0;
    for (const r of records) {
      seq = r.seq ?? seq + 1;
      list.push({ ...r, seq });
    }
    this.records.set(config.name, list);
  }

  private state(name: string): StreamInfo {
    const config = this.configs.get(name);
    const list = this.records.get(name);
    if (config === undefined || list === undefined) throw notFound(name);
    const first = list[0];
    const last = list[list.length - 1];
    return {
      ...config,
      state: {
        firstSeq: first?.seq ?? config.state.lastSeq + 1,
        lastSeq: last?.seq ?? config.state.lastSeq,
        messages: list.length,
        bytes: list.length * 100,
        ...(first ? { firstTime: first.time } : {}),
        ...(last ? { lastTime: last.time } : {}),
      },
    };
  }

  streams = {
    // Managing streams and consumers is tested against a real hub (test/integration/streams-cli.test.ts).
    create: unused,
    update: unused,
    delete: unused,
    addConsumer: unused,
    deleteConsumer: unused,
    list: async (): Promise<StreamInfo[]> => [...this.configs.keys()].map((n) => this.state(n)),
    info: async (name: string): Promise<StreamInfo> => this.state(name),
    purge: async (name: string, options: { upToSeq?: number } = {}): Promise<{ purged: number }> => {
      const s = this.state(name);
      this.purges.push({ name, ...options });
      const list = this.records.get(name)!;
      const keep = list.filter((r) => options.upToSeq !== undefined && r.seq > options.upToSeq);
      this.records.set(name, keep);
      this.configs.set(name, { ...s, state: { ...s.state, lastSeq: s.state.lastSeq } });
      return { purged: list.length - keep.length };
    },
    read: async (name: string, options: { fromSeq?: number; maxMessages?: number } = {}): Promise<StreamRecord[]> => {
      this.state(name);
      this.reads.push({ name, ...options });
      const max = Math.min(options.maxMessages ?? 100, this.pageCap);
      return this.records
        .get(name)!
        .filter((r) => r.seq >= (options.fromSeq ?? 0))
        .slice(0, max);
    },
  };

  async publish(
    topic: string,
    data: unknown,
    options: { durable: true; msgId: string; headers?: Record<string, string> },
  ): Promise<PublishAck> {
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    await new Promise((r) => setImmediate(r));
    this.inflight--;
    if (topic === this.failTopic) throw new CrossbusError('CB_ERR_FORBIDDEN', `not allowed to publish to ${topic}`);
    const refusal = this.admit?.();
    if (refusal !== undefined) throw refusal;
    const stream = (topic.split('.')[0] ?? '').toUpperCase();
    const seen = this.msgIds.get(options.msgId);
    if (seen !== undefined) return { stream, seq: seen, duplicate: true };
    const list = this.records.get(stream);
    if (list === undefined) throw notFound(stream);
    const seq = (list[list.length - 1]?.seq ?? this.configs.get(stream)!.state.lastSeq) + 1;
    list.push({ seq, time: T0 + 1_000_000, topic, data, ...(options.headers ? { headers: options.headers } : {}), msgId: options.msgId });
    this.msgIds.set(options.msgId, seq);
    this.published.push({ topic, data, msgId: options.msgId, ...(options.headers ? { headers: options.headers } : {}) });
    return { stream, seq, duplicate: false };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The fake clock of the command runs: sleeping moves it on at once. */
const clock = { t: T0 };

function io(): StreamIo & { out: () => string; err: () => string; progressText: () => string } {
  let out = '';
  let err = '';
  let progress = '';
  return {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    progress: { isTTY: false, write: (s: string) => void (progress += s) },
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
    },
    out: () => out,
    err: () => err,
    progressText: () => progress,
  };
}

/** Runs a command against `client`, recording the flags it connected with. */
async function run(cmd: typeof streamCommand, args: string[], client: FakeClient | undefined = new FakeClient()) {
  const o = io();
  const opened: ClientFlags[] = [];
  const code = await cmd(args, o, async (flags) => {
    opened.push(flags);
    if (client === undefined) throw new Error('should not connect');
    return client;
  });
  return { code, stdout: o.out(), stderr: o.err(), progress: o.progressText(), opened };
}

function deadLetterRecord(seq: number, topic: string, data: unknown, extra: Record<string, string> = {}): StreamRecord {
  return {
    seq,
    time: T0 + seq,
    topic,
    data,
    headers: {
      'cb-dlq-reason': 'max-deliver',
      'cb-dlq-attempts': '5',
      'cb-dlq-stream': 'ORDERS',
      'cb-dlq-seq': String(seq * 10),
      'cb-dlq-time': String(T0),
      ...extra,
    },
  };
}

// ------------------------------------------------------------------------------ pure parts

describe('flag values', () => {
  test('sequence flags are positive integers', () => {
    assert.equal(parseSeqFlag('from-seq', undefined), undefined);
    assert.equal(parseSeqFlag('from-seq', '42'), 42);
    for (const bad of ['0', '-1', '1.5', 'abc', '', '1e3', '99999999999999999999']) {
      assert.throws(() => parseSeqFlag('from-seq', bad), /--from-seq must be an integer of at least 1/, bad);
    }
  });

  test('--since takes an ISO time or ms since the epoch', () => {
    assert.equal(parseSince('2025-01-31T12:00:00Z'), T0);
    assert.equal(parseSince('2025-01-31'), Date.UTC(2025, 0, 31));
    assert.equal(parseSince(String(T0)), T0);
    for (const bad of ['yesterday', '2025-13-45', '12:00', '-5']) assert.throws(() => parseSince(bad), /--since must be an ISO time/, bad);
  });

  test('--max-msgs-per-topic: a count on add, kept or removed (none) on edit, shown in info', () => {
    const added = streamConfigFromFlags('KV', { topic: ['kv.>'], 'max-msgs-per-topic': '2' });
    assert.equal(added.maxMessagesPerTopic, 2);
    for (const bad of ['0', '-1', '1.5', 'x'])
      assert.throws(
        () => streamConfigFromFlags('KV', { topic: ['kv.>'], 'max-msgs-per-topic': bad }),
        /--max-msgs-per-topic takes an integer/,
      );
    const base = configOf({ ...added, topics: ['kv.>'] });
    assert.equal(base.maxMessagesPerTopic, 2);
    assert.equal(streamConfigFromFlags('KV', { 'max-msgs': '9' }, base).maxMessagesPerTopic, 2, 'kept when not given');
    assert.equal(streamConfigFromFlags('KV', { 'max-msgs-per-topic': 'none' }, base).maxMessagesPerTopic, undefined);
    assert.match(
      formatStreamInfo(info('KV', { maxMessagesPerTopic: 2, maxMessages: 100 }), undefined),
      /limits: +100 messages, 2 per topic\n/,
    );
  });

  test('sizes and durations', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(12 * 1024 * 1024), '12 MiB');
    assert.equal(formatMs(500), '500ms');
    assert.equal(formatMs(120_000), '2m');
    assert.equal(formatMs(5_400_000), '1h 30m');
    assert.equal(formatMs(7 * 86_400_000 + 1000), '7d 1s');
  });
});

describe('output formats', () => {
  const orders = info(
    'ORDERS',
    {
      maxAgeMs: 86_400_000,
      consumers: [
        { durable: 'billing', ackFloor: 4100, pending: 100, waiting: 1, members: 2 },
        { durable: 'audit', ackFloor: 4200, pending: 0, waiting: 0, members: 0 },
      ],
    },
    { firstSeq: 1, lastSeq: 4200, messages: 4200, bytes: 1_300_000, firstTime: T0, lastTime: T0 + 60_000 },
  );
  const dlq = info('ORDERS.DLQ', { topics: [], deadLetterOf: 'ORDERS' }, { firstSeq: 1, lastSeq: 3, messages: 3, bytes: 300 });
  const broken = info('BROKEN', { quarantined: { code: 'CB_ERR_STREAM_CORRUPT', message: 'segment 3 failed its checksum' } });

  test('stream ls: a table with seq range, consumers and quarantine', () => {
    const text = formatStreamList([orders, dlq, broken]);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^ {2}NAME +TOPICS +MESSAGES +BYTES +SEQ +CONSUMERS +STATUS$/);
    assert.match(text, /BROKEN +broken\.> +0 +0 B +- +0 +QUARANTINED: CB_ERR_STREAM_CORRUPT: segment 3 failed its checksum\n/);
    assert.match(text, /ORDERS +orders\.> +4200 +1\.2 MiB +1\.\.4200 +2 +ok\n/);
    assert.match(text, /ORDERS\.DLQ +\(dead letters of ORDERS\) +3 +300 B +1\.\.3 +0 +ok\n/);
    // Columns line up: every row has its SEQ where the header has it.
    const at = lines[0]!.indexOf('SEQ');
    assert.ok(
      lines.slice(1, 4).every((l) => /^[-\d]/.test(l.slice(at))),
      text,
    );
    assert.equal(formatStreamList([]), 'No streams.\n');
  });

  test('stream info: fields, consumers, dead letters, quarantine', () => {
    const text = formatStreamInfo(orders, dlq);
    assert.match(text, /^Stream ORDERS\n/);
    assert.match(text, /messages: +4200 \(1\.2 MiB\)/);
    assert.match(text, /sequence: +1\.\.4200/);
    assert.match(text, /first message: +2025-01-31T12:00:00\.000Z/);
    assert.match(text, /limits: +age 1d\n/);
    assert.match(text, /duplicate window: +2m/);
    assert.match(text, /dead letters: +3 \(ORDERS\.DLQ; 'crossbus dlq ls ORDERS'\)/);
    assert.match(text, /status: +ok/);
    assert.match(
      text,
      /Consumers \(2\):\n {2}DURABLE +ACK FLOOR +PENDING +WAITING +MEMBERS\n {2}audit +4200 +0 +0 +0\n {2}billing +4100 +100 +1 +2\n/,
    );
    assert.match(formatStreamInfo(orders, undefined), /dead letters: +0\n/);
    const q = formatStreamInfo(broken, undefined);
    assert.match(q, /status: +QUARANTINED: CB_ERR_STREAM_CORRUPT: segment 3 failed its checksum/);
    assert.match(q, /No consumers\./);
    assert.doesNotMatch(formatStreamInfo(dlq, undefined), /dead letters:/, 'a DLQ has none of its own');
    assert.deepEqual(JSON.parse(streamInfoJson(orders, dlq)), { ...orders, deadLetters: 3 });
  });

  test('no control characters from the hub reach the terminal', () => {
    const evil = info('X', { topics: ['a.\u001b[31m'] });
    assert.doesNotMatch(formatStreamList([evil]), /\u001b/);
    assert.doesNotMatch(
      formatDeadLetters('X', [deadLetterRecord(1, 't', 1, { 'cb-dlq-reason': 'term: \u001b]0;pwned\u0007' })]),
      /[\u001b\u0007]/,
    );
  });

  test('replay lines: JSON values as "data", bytes as base64 in "data_b64"', () => {
    assert.equal(
      recordLine({ seq: 1, time: T0, topic: 'a.b', data: { id: 1 } }),
      `{"seq":1,"time":${T0},"topic":"a.b","headers":{},"data":{"id":1}}\n`,
    );
    const bytes = new Uint8Array([0, 1, 2, 255]);
    assert.deepEqual(recordJson({ seq: 2, time: T0, topic: 'a.b', data: bytes, headers: { h: 'v' }, msgId: 'm' }), {
      seq: 2,
      time: T0,
      topic: 'a.b',
      headers: { h: 'v' },
      data_b64: 'AAEC/w==',
      msgId: 'm',
    });
    // A Buffer view into a larger pool encodes only its own bytes.
    const view = Buffer.from([9, 9, 7, 7]).subarray(2);
    assert.equal(recordJson({ seq: 3, time: T0, topic: 't', data: view }).data_b64, 'Bwc=');
  });

  test('dead letters: parsed cb-dlq-* headers, a table, and the headers a replay keeps', () => {
    const r = deadLetterRecord(7, 'orders.created', { id: 7 }, { traceparent: 'tp', 'cb-dlq-reason': 'term: bad payload' });
    assert.deepEqual(deadLetter(r), {
      seq: 7,
      time: T0 + 7,
      topic: 'orders.created',
      reason: 'term: bad payload',
      attempts: 5,
      sourceStream: 'ORDERS',
      sourceSeq: 70,
      originalTime: T0,
      headers: { traceparent: 'tp' },
      data: { id: 7 },
    });
    assert.deepEqual(originalHeaders({ 'CB-DLQ-Reason': 'x', a: '1' }), { a: '1' });
    const text = formatDeadLetters('ORDERS', [r, deadLetterRecord(8, 'orders.paid', null)]);
    assert.match(text, /^Dead letters of ORDERS \(2\):\n {2}DLQ SEQ +TOPIC +REASON +ATTEMPTS +SOURCE SEQ +ORIGINAL TIME\n/);
    assert.match(text, / {2}7 +orders\.created +term: bad payload +5 +70 +2025-01-31T12:00:00\.000Z\n/);
    assert.match(text, / {2}8 +orders\.paid +max-deliver +5 +80 /);
    assert.equal(formatDeadLetters('ORDERS', []), 'No dead letters in ORDERS.\n');
  });
});

// ------------------------------------------------------------------------------ commands

describe('crossbus stream: usage', () => {
  test('--help at every level prints the usage on stdout, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['ls', '--help'], ['replay', 'X', '-h'], ['purge', '--help']]) {
      const r = await run(streamCommand, args, undefined);
      assert.equal(r.code, 0, args.join(' '));
      assert.equal(r.stdout, `${STREAM_HELP}\n`);
      assert.equal(r.stderr, '');
    }
    const d = await run(dlqCommand, ['replay', '--help'], undefined);
    assert.equal(d.code, 0);
    assert.equal(d.stdout, `${DLQ_HELP}\n`);
  });

  test('bad input exits 2 before connecting', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /stream needs a subcommand: ls, info, replay, purge/],
      [['frob'], /unknown stream subcommand "frob"/],
      [['info'], /stream info needs <name>/],
      [['info', 'A', 'B'], /stream info takes one <name>, got 2 arguments/],
      [['ls', 'A'], /stream ls takes no arguments, got "A"/],
      [['ls', '--bogus'], /unknown option --bogus/],
      [['ls', '--yes'], /unknown option --yes/],
      [['replay', 'A', '--from-seq', 'x'], /--from-seq must be an integer/],
      [['replay', 'A', '--since', 'soon'], /--since must be an ISO time/],
      [['replay', 'A', '--from-seq', '3', '--since', '2025-01-01'], /--from-seq or --since, not both/],
      [['replay', 'A', '--from-seq', '5', '--to-seq', '4'], /--to-seq is before --from-seq/],
      [['replay', 'A', '--progress', '--no-progress'], /exclude each other/],
      [['purge', 'A'], /refusing to purge "A" without --yes: it deletes every stored message/],
      [['purge', 'A', '--up-to-seq', '9'], /refusing to purge "A" without --yes: it deletes every message with seq <= 9/],
      [['purge', 'A', '--up-to-seq', '0', '--yes'], /--up-to-seq must be an integer of at least 1/],
    ];
    for (const [args, re] of cases) {
      const r = await run(streamCommand, args, undefined);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
      assert.match(r.stderr, /Run 'crossbus stream --help' for usage\.\n$/);
      assert.equal(r.opened.length, 0, 'did not connect');
    }
    for (const [args, re] of [
      [['replay', 'A', '--rate=-1'], /--rate must be an integer of at least 0/],
      [[], /dlq needs a subcommand: ls, replay/],
      [['ls'], /dlq ls needs <stream>/],
      [['replay', 'A', '--to-seq', '3'], /unknown option --to-seq/],
    ] as Array<[string[], RegExp]>) {
      const r = await run(dlqCommand, args, undefined);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re);
      assert.match(r.stderr, /crossbus dlq --help/);
    }
  });

  test('the connection flags reach the opener', async () => {
    const r = await run(streamCommand, ['ls', '--url', 'ws://127.0.0.1:1', '--name', 'ops', '--data', '/tmp/x', '--insecure']);
    assert.equal(r.code, 0);
    assert.deepEqual({ ...r.opened[0] }, { url: 'ws://127.0.0.1:1', name: 'ops', data: '/tmp/x', insecure: true });
  });
});

describe('crossbus stream against a fake client', () => {
  function withOrders(n: number, pageCap = Infinity): FakeClient {
    const c = new FakeClient();
    c.pageCap = pageCap;
    c.add(
      info('ORDERS'),
      Array.from({ length: n }, (_, i) => ({ time: T0 + i * 1000, topic: `orders.${i % 2 ? 'paid' : 'created'}`, data: { i: i + 1 } })),
    );
    return c;
  }

  test('ls and info, as tables and JSON; the connection is closed', async () => {
    const c = withOrders(3);
    c.add(info('ORDERS.DLQ', { topics: [], deadLetterOf: 'ORDERS' }), [deadLetterRecord(1, 'orders.created', 1)]);
    const ls = await run(streamCommand, ['ls'], c);
    assert.equal(ls.code, 0);
    assert.match(ls.stdout, /ORDERS +orders\.> +3 +300 B +1\.\.3 +0 +ok/);
    assert.ok(c.closed);
    const lsJson = await run(streamCommand, ['ls', '--json'], c);
    assert.deepEqual(
      (JSON.parse(lsJson.stdout) as StreamInfo[]).map((s) => s.name),
      ['ORDERS', 'ORDERS.DLQ'],
    );
    const inf = await run(streamCommand, ['info', 'ORDERS'], c);
    assert.match(inf.stdout, /dead letters: +1 \(ORDERS\.DLQ/);
    const infJson = await run(streamCommand, ['info', 'ORDERS', '--json'], c);
    assert.equal((JSON.parse(infJson.stdout) as { deadLetters: number }).deadLetters, 1);
  });

  test('an unknown stream: exit 1 with the error code', async () => {
    for (const args of [
      ['info', 'NOPE'],
      ['replay', 'NOPE'],
      ['purge', 'NOPE', '--yes'],
    ]) {
      const r = await run(streamCommand, args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^crossbus: stream NOPE not found \(CB_ERR_STREAM_NOT_FOUND\)\n$/);
    }
    const d = await run(dlqCommand, ['ls', 'NOPE']);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /CB_ERR_STREAM_NOT_FOUND/);
  });

  test('failing to connect: exit 1 with the message', async () => {
    const o = io();
    const code = await streamCommand(['ls'], o, async () => {
      throw new CrossbusError('CB_ERR_CONNECTION_FAILED', 'cannot reach ws://127.0.0.1:1');
    });
    assert.equal(code, 1);
    assert.equal(o.err(), 'crossbus: cannot reach ws://127.0.0.1:1 (CB_ERR_CONNECTION_FAILED)\n');
  });

  test('replay: every message in order as JSON lines, page by page, to the last seq at the start', async () => {
    const c = withOrders(1234, 100);
    const r = await run(streamCommand, ['replay', 'ORDERS'], c);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; data: { i: number } });
    assert.equal(lines.length, 1234);
    assert.deepEqual(
      lines.map((l) => l.seq),
      Array.from({ length: 1234 }, (_, i) => i + 1),
    );
    assert.ok(lines.every((l) => l.data.i === l.seq));
    assert.ok(c.reads.length >= 13, 'paged');
    // More than 1000 messages: a bar (not a TTY here: a line per 10%).
    assert.match(r.progress, /^replay ORDERS \[/);
    assert.match(r.progress, /100% 1234\/1234/);
    assert.equal(r.progress.trimEnd().split('\n').length, 11);
  });

  test('replay ranges: --from-seq / --to-seq / --since', async () => {
    const c = withOrders(50, 7);
    const seqs = async (args: string[]): Promise<number[]> => {
      const r = await run(streamCommand, ['replay', 'ORDERS', ...args], c);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.progress, '', 'no bar for 50 messages');
      return r.stdout
        .trimEnd()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { seq: number }).seq);
    };
    assert.deepEqual(await seqs(['--from-seq', '45']), [45, 46, 47, 48, 49, 50]);
    assert.deepEqual(await seqs(['--from-seq', '10', '--to-seq', '12']), [10, 11, 12]);
    assert.deepEqual(await seqs(['--to-seq', '2']), [1, 2]);
    assert.deepEqual(await seqs(['--from-seq', '99']), []);
    // Message i is stored at T0 + (i-1) s.
    assert.deepEqual(await seqs(['--since', new Date(T0 + 47_000).toISOString()]), [48, 49, 50]);
    assert.deepEqual(await seqs(['--since', String(T0 + 46_500)]), [48, 49, 50]);
    assert.deepEqual(
      await seqs(['--since', String(T0 - 1)]),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.deepEqual(await seqs(['--since', String(T0 + 10_000_000)]), []);
    assert.deepEqual(await seqs(['--since', String(T0 + 47_000), '--to-seq', '48']), [48]);
  });

  test('--since bisects with single reads, also over gaps', async () => {
    const c = new FakeClient();
    c.add(
      info('G'),
      [10, 11, 12, 40, 41, 90].map((seq) => ({ seq, time: T0 + seq, topic: 'g', data: seq })),
    );
    assert.equal(await seqAtTime(c, 'G', T0 + 13, 10, 90), 13); // reading from 13 gives 40
    assert.equal(await seqAtTime(c, 'G', T0 + 41, 10, 90), 41);
    assert.equal(await seqAtTime(c, 'G', T0 + 91, 10, 90), 91);
    assert.equal(await seqAtTime(c, 'G', 0, 10, 90), 10);
    assert.ok(c.reads.every((r) => r.maxMessages === 1));
    assert.ok(c.reads.length <= 4 * 8);
    const r = await run(streamCommand, ['replay', 'G', '--since', String(T0 + 13)], c);
    assert.deepEqual(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
      [40, 41, 90],
    );
  });

  test('--progress shows a bar for a short run, --no-progress hides it for a long one', async () => {
    const c = withOrders(1500);
    assert.match((await run(streamCommand, ['replay', 'ORDERS', '--to-seq', '5', '--progress'], c)).progress, /100% 5\/5/);
    assert.equal((await run(streamCommand, ['replay', 'ORDERS', '--no-progress'], c)).progress, '');
  });

  test('purge: all, or up to a seq', async () => {
    const c = withOrders(10);
    const some = await run(streamCommand, ['purge', 'ORDERS', '--up-to-seq', '4', '--yes'], c);
    assert.equal(some.code, 0);
    assert.equal(some.stdout, 'purged 4 messages from ORDERS\n');
    assert.deepEqual(c.purges, [{ name: 'ORDERS', upToSeq: 4 }]);
    const all = await run(streamCommand, ['purge', 'ORDERS', '--yes'], c);
    assert.equal(all.stdout, 'purged 6 messages from ORDERS\n');
    assert.deepEqual(c.purges[1], { name: 'ORDERS' });
  });
});

describe('crossbus dlq against a fake client', () => {
  function withDeadLetters(n: number): FakeClient {
    const c = new FakeClient();
    c.add(info('ORDERS'), [{ time: T0, topic: 'orders.created', data: 0 }]);
    c.add(
      info('ORDERS.DLQ', { topics: [], deadLetterOf: 'ORDERS' }),
      Array.from({ length: n }, (_, i) =>
        deadLetterRecord(i + 1, `orders.n${i + 1}`, i % 3 === 0 ? new Uint8Array([i & 255]) : { i: i + 1 }, { traceparent: `t${i + 1}` }),
      ),
    );
    return c;
  }

  test('ls: a table, JSON, and "no dead letters" when the DLQ stream does not exist; ORDERS.DLQ is taken for ORDERS', async () => {
    const c = withDeadLetters(3);
    const r = await run(dlqCommand, ['ls', 'ORDERS'], c);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Dead letters of ORDERS \(3\):/);
    assert.match(r.stdout, / {2}2 +orders\.n2 +max-deliver +5 +20 /);
    assert.equal((await run(dlqCommand, ['ls', 'ORDERS.DLQ'], c)).stdout, r.stdout);
    const j = JSON.parse((await run(dlqCommand, ['ls', 'ORDERS', '--json'], c)).stdout) as Array<Record<string, unknown>>;
    assert.equal(j.length, 3);
    assert.deepEqual(
      { ...j[0], headers: undefined },
      {
        seq: 1,
        time: T0 + 1,
        topic: 'orders.n1',
        reason: 'max-deliver',
        attempts: 5,
        sourceStream: 'ORDERS',
        sourceSeq: 10,
        originalTime: T0,
        headers: undefined,
        data_b64: 'AA==',
      },
    );
    const bare = new FakeClient();
    bare.add(info('ORDERS'));
    const none = await run(dlqCommand, ['ls', 'ORDERS'], bare);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, 'No dead letters in ORDERS.\n');
    const noneReplay = await run(dlqCommand, ['replay', 'ORDERS'], bare);
    assert.equal(noneReplay.code, 0);
    assert.match(noneReplay.stdout, /no dead letters in ORDERS: nothing to replay/);
  });

  test('replay republishes each dead letter durably (data, original headers, msgId), windowed, then purges the DLQ', async () => {
    const c = withDeadLetters(1234);
    const start = clock.t;
    const r = await run(dlqCommand, ['replay', 'ORDERS'], c);
    assert.equal(r.code, 0, r.stderr);
    const took = clock.t - start;
    assert.ok(
      took >= 1233 * (1000 / DEFAULT_REPLAY_RATE) - 4 && took <= 1234 * (1000 / DEFAULT_REPLAY_RATE),
      `paced at ${DEFAULT_REPLAY_RATE}/s: ${took} ms`,
    );
    assert.equal(c.published.length, 1234);
    assert.deepEqual(c.published[0], {
      topic: 'orders.n1',
      data: new Uint8Array([0]),
      msgId: 'dlq-ORDERS-1',
      headers: { traceparent: 't1' },
    });
    assert.deepEqual(c.published[1], { topic: 'orders.n2', data: { i: 2 }, msgId: 'dlq-ORDERS-2', headers: { traceparent: 't2' } });
    assert.ok(c.maxInflight > 1 && c.maxInflight <= REPLAY_WINDOW, `in flight at once: ${c.maxInflight}`);
    assert.deepEqual(c.purges, [{ name: 'ORDERS.DLQ', upToSeq: 1234 }]);
    assert.equal(c.records.get('ORDERS.DLQ')!.length, 0);
    assert.equal(c.records.get('ORDERS')!.length, 1235);
    assert.equal(
      r.stdout,
      'replayed 1234 dead letters of ORDERS (dlq seq 1..1234): 1234 stored, 0 already stored (duplicate msgId); purged 1234 from ORDERS.DLQ\n',
    );
    assert.match(r.progress, /^dlq replay ORDERS \[/);
    assert.match(r.progress, /100% 1234\/1234/);
  });

  test('a rerun (the purge failed last time) stores no duplicates', async () => {
    const c = withDeadLetters(5);
    await run(dlqCommand, ['replay', 'ORDERS'], c);
    // Put the same dead letters back, as if the purge had not happened.
    const again = withDeadLetters(5);
    again.records.set('ORDERS', c.records.get('ORDERS')!);
    for (const [k, v] of c.msgIds) again.msgIds.set(k, v);
    const r = await run(dlqCommand, ['replay', 'ORDERS'], again);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /replayed 5 dead letters of ORDERS \(dlq seq 1\.\.5\): 0 stored, 5 already stored/);
    assert.equal(again.records.get('ORDERS')!.length, 6);
  });

  test('dead letters added during the replay are left for the next run', async () => {
    const c = withDeadLetters(3);
    const read = c.streams.read;
    c.streams.read = async (name, options) => {
      const page = await read(name, options);
      if (name === 'ORDERS.DLQ' && c.records.get(name)!.length === 3) c.records.get(name)!.push(deadLetterRecord(4, 'orders.late', 4));
      return page;
    };
    const r = await run(dlqCommand, ['replay', 'ORDERS'], c);
    assert.equal(r.code, 0);
    assert.equal(c.published.length, 3);
    assert.deepEqual(c.purges, [{ name: 'ORDERS.DLQ', upToSeq: 3 }]);
    assert.deepEqual(
      c.records.get('ORDERS.DLQ')!.map((x) => x.seq),
      [4],
    );
  });

  test('--from-seq replays from there and does not purge the earlier ones', async () => {
    const c = withDeadLetters(6);
    const r = await run(dlqCommand, ['replay', 'ORDERS', '--from-seq', '4'], c);
    assert.equal(r.code, 0);
    assert.deepEqual(
      c.published.map((p) => p.msgId),
      ['dlq-ORDERS-4', 'dlq-ORDERS-5', 'dlq-ORDERS-6'],
    );
    assert.deepEqual(c.purges, []);
    assert.match(
      r.stdout,
      /not purged: dead letters before seq 4 remain \(purge with 'crossbus stream purge ORDERS\.DLQ --up-to-seq 6 --yes'\)/,
    );
  });

  test('a failed publish stops the replay; only the dead letters before it are purged; exit 1 with the code', async () => {
    const c = withDeadLetters(300);
    c.failTopic = 'orders.n150';
    const r = await run(dlqCommand, ['replay', 'ORDERS', '--progress'], c);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /dlq replay stopped at dlq seq 150; dead letters from there on were kept\n/);
    assert.match(r.stderr, /crossbus: not allowed to publish to orders\.n150 \(CB_ERR_FORBIDDEN\)\n$/);
    assert.deepEqual(c.purges, [{ name: 'ORDERS.DLQ', upToSeq: 149 }]);
    assert.equal(c.records.get('ORDERS.DLQ')![0]!.seq, 150);
    assert.ok(c.published.length >= 149 && c.published.length < 300, `${c.published.length} published`);
    assert.match(r.stdout, /purged 149 from ORDERS\.DLQ/);
  });

  test('--rate sets the pace; --rate 0 turns pacing off', async () => {
    let start = clock.t;
    assert.equal((await run(dlqCommand, ['replay', 'ORDERS', '--rate', '100'], withDeadLetters(51))).code, 0);
    assert.equal(clock.t - start, 500);
    start = clock.t;
    assert.equal((await run(dlqCommand, ['replay', 'ORDERS', '--rate', '0'], withDeadLetters(500))).code, 0);
    assert.equal(clock.t, start);
  });

  test('refused over the rate limit (CB_ERR_RATE_LIMITED): waits, slows down, sends again; nothing lost or doubled', async () => {
    const c = withDeadLetters(300);
    // The hub's token bucket on the fake clock: 50 a second, burst 20.
    let tokens = 20;
    let last = clock.t;
    c.admit = () => {
      tokens = Math.min(20, tokens + ((clock.t - last) * 50) / 1000);
      last = clock.t;
      if (tokens >= 1) {
        tokens--;
        return undefined;
      }
      const retryAfterMs = Math.ceil(((1 - tokens) * 1000) / 50);
      return createError('CB_ERR_RATE_LIMITED', `rate limit exceeded; retry after ${retryAfterMs} ms`, { details: { retryAfterMs } });
    };
    const r = await run(dlqCommand, ['replay', 'ORDERS'], c);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(c.published.map((p) => p.msgId).sort(), Array.from({ length: 300 }, (_, i) => `dlq-ORDERS-${i + 1}`).sort());
    assert.deepEqual(c.purges, [{ name: 'ORDERS.DLQ', upToSeq: 300 }]);
    const m = /; rate-limited (\d+) times, slowed to (\d+)\/s\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(Number(m[2]) <= 50, `slowed below the limit: ${m[2]}/s`);
    // Refusals are violations on a real hub: they stop once the pace is below the limit.
    assert.ok(Number(m[1]) < 60, `${m[1]} refusals`);
  });

  test('refused over and over: gives up after the retries with the code', async () => {
    const c = withDeadLetters(3);
    c.admit = () => createError('CB_ERR_RATE_LIMITED', 'rate limit exceeded', { details: { retryAfterMs: 5 } });
    const r = await run(dlqCommand, ['replay', 'ORDERS'], c);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /dlq replay stopped at dlq seq 1; dead letters from there on were kept\ncrossbus: rate limit exceeded \(CB_ERR_RATE_LIMITED\)\n$/,
    );
    assert.deepEqual(c.purges, []);
    assert.equal(c.records.get('ORDERS.DLQ')!.length, 3);
  });

  test('a failed purge after the replay: the summary says so, exit 1 with the code', async () => {
    const c = withDeadLetters(4);
    c.streams.purge = async () => {
      throw createError('CB_ERR_STORAGE', 'disk full');
    };
    const r = await run(dlqCommand, ['replay', 'ORDERS'], c);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^replayed 4 dead letters of ORDERS \(dlq seq 1\.\.4\): 4 stored, 0 already stored \(duplicate msgId\); NOT purged .*'crossbus stream purge ORDERS\.DLQ --up-to-seq 4 --yes'\)\n$/,
    );
    assert.equal(r.stderr, 'crossbus: disk full (CB_ERR_STORAGE)\n');
  });
});
