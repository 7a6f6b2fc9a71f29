/**
 * Joining a cluster, before any socket: the options' checks and defaults, the CLI flags, the
 * config section, and the reply topics requests cross with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterReplyTopic, isLocalOnly, isReservedSubject, parseClusterReplyTopic } from '../../src/core/broker/cluster.js';
import { Kind, envelope } from '../../src/core/protocol/envelope.js';
import { parseHubConfig, serializeHubConfig } from '../../src/core/config/schema.js';
import { type ClusterOptions, clusterServerProblem, resolveClusterOptions } from '../../src/node/cluster/cluster-options.js';
import { clusterFlags } from '../../src/cli/cluster-flags.js';
import { canSyncEveryWrite, clusterFromConfig } from '../../src/hub/cluster-setup.js';
import { rejectsWithCode } from '../helpers/rejects.js';

const dir = mkdtempSync(join(tmpdir(), 'cb-cluster-opts-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};

test('defaults: fail when unreachable, 5 s to connect, 250 ms between reconnections, no credentials', async () => {
  const o = await resolveClusterOptions({ servers: ['nats://127.0.0.1:4222'] });
  assert.deepEqual(o, {
    servers: ['nats://127.0.0.1:4222'],
    name: undefined,
    credentials: { kind: 'none' },
    tls: undefined,
    connectTimeoutMs: 5_000,
    whenUnreachable: 'fail',
    reconnectWaitMs: 250,
    replicas: undefined,
    streamPrefix: undefined,
  });
});

test('server URLs: nats:// or tls://, host and port only, and never credentials (which the error does not repeat)', async () => {
  assert.equal(clusterServerProblem('nats://a:4222'), undefined);
  assert.equal(clusterServerProblem('tls://a.example:4443'), undefined);
  assert.match(clusterServerProblem('http://a:4222') ?? '', /nats:\/\/ or tls:\/\//);
  assert.match(clusterServerProblem('not a url') ?? '', /not a URL/);
  assert.match(clusterServerProblem('nats://a:4222/path') ?? '', /only scheme, host and port/);
  const withSecret = clusterServerProblem('nats://hub:s3cret@a:4222') ?? '';
  assert.match(withSecret, /must not carry credentials/);
  assert.doesNotMatch(withSecret, /s3cret/);
  await rejectsWithCode(resolveClusterOptions({ servers: [] }), 'CB_ERR_INVALID_OPTION');
  await rejectsWithCode(resolveClusterOptions({ servers: ['nats://a:1', 'nats://u:p@b:2'] }), 'CB_ERR_INVALID_OPTION');
  await rejectsWithCode(resolveClusterOptions({ servers: [42 as unknown as string] }), 'CB_ERR_INVALID_OPTION');
});

test('credentials: one kind at a time, read from their files, a user always with a password', async () => {
  const servers = ['nats://a:4222'];
  const pw = file('pw', 'hunter2\n');
  assert.deepEqual((await resolveClusterOptions({ servers, user: 'hub1', passwordFile: pw })).credentials, {
    kind: 'user',
    user: 'hub1',
    pass: 'hunter2',
  });
  assert.deepEqual((await resolveClusterOptions({ servers, user: 'hub1', password: 'p' })).credentials, {
    kind: 'user',
    user: 'hub1',
    pass: 'p',
  });
  assert.deepEqual((await resolveClusterOptions({ servers, tokenFile: file('tok', 'T0K') })).credentials, { kind: 'token', token: 'T0K' });
  assert.equal((await resolveClusterOptions({ servers, nkeySeedFile: file('seed', 'SUAXXX') })).credentials.kind, 'nkey');
  assert.equal(
    (await resolveClusterOptions({ servers, credsFile: file('creds', '-----BEGIN NATS USER JWT-----') })).credentials.kind,
    'creds',
  );
  await rejectsWithCode(resolveClusterOptions({ servers, user: 'hub1', password: 'p', passwordFile: pw }), 'CB_ERR_CONFLICTING_OPTIONS');
  await rejectsWithCode(resolveClusterOptions({ servers, tokenFile: pw, credsFile: pw }), 'CB_ERR_CONFLICTING_OPTIONS');
  await rejectsWithCode(resolveClusterOptions({ servers, user: 'hub1' }), 'CB_ERR_INVALID_OPTION');
  await rejectsWithCode(resolveClusterOptions({ servers, password: 'p' }), 'CB_ERR_INVALID_OPTION');
  await rejectsWithCode(resolveClusterOptions({ servers, user: 'hub1', passwordFile: join(dir, 'missing') }), 'CB_ERR_INVALID_OPTION');
  await rejectsWithCode(resolveClusterOptions({ servers, tokenFile: file('empty', '  \n') }), 'CB_ERR_INVALID_OPTION');
});

/** Each numeric limit: the values at and just past its edges, accepted or refused. */
const EDGES: ReadonlyArray<[keyof ClusterOptions, ReadonlyArray<[number, boolean]>]> = [
  [
    'connectTimeoutMs',
    [
      [100, true],
      [99, false],
      [600_000, true],
      [600_001, false],
      [1.5, false],
    ],
  ],
  [
    'reconnectWaitMs',
    [
      [10, true],
      [9, false],
      [60_000, true],
      [60_001, false],
    ],
  ],
  [
    'replicas',
    [
      [1, true],
      [0, false],
      [5, true],
      [6, false],
    ],
  ],
];

test('limits at their edges; TLS needs a certificate and its key together', async () => {
  const servers = ['nats://a:4222'];
  for (const [option, cases] of EDGES)
    for (const [value, ok] of cases) {
      const p = resolveClusterOptions({ servers, [option]: value });
      if (ok) assert.equal((await p)[option as 'replicas'], value, `${option} ${value}`);
      else await rejectsWithCode(p, 'CB_ERR_INVALID_OPTION');
    }
  await rejectsWithCode(resolveClusterOptions({ servers, whenUnreachable: 'retry' as 'fail' }), 'CB_ERR_INVALID_OPTION');
  await rejectsWithCode(resolveClusterOptions({ servers, streamPrefix: 'a.b' }), 'CB_ERR_INVALID_OPTION');
  assert.equal((await resolveClusterOptions({ servers, streamPrefix: 'APP_1' })).streamPrefix, 'APP_1');
  await rejectsWithCode(resolveClusterOptions({ servers, tls: { certFile: file('c', 'C') } }), 'CB_ERR_INVALID_OPTION');
  const tls = await resolveClusterOptions({
    servers,
    tls: { caFile: file('ca', 'CA'), certFile: file('c', 'C'), keyFile: file('k', 'K') },
  });
  assert.deepEqual(tls.tls, { ca: 'CA', cert: 'C', key: 'K' });
});

test('the caller’s options are not changed', async () => {
  const given = Object.freeze({ servers: Object.freeze(['nats://a:4222']), user: 'u', password: 'p' });
  const o = await resolveClusterOptions(given);
  assert.notEqual(o.servers, given.servers);
});

test('CLI flags: servers split on commas; the password from a file or CROSSBUS_CLUSTER_PASSWORD, never a flag', () => {
  assert.equal(clusterFlags({}), undefined);
  assert.deepEqual(clusterFlags({ cluster: 'nats://a:1, nats://b:2,' }, {}), { servers: ['nats://a:1', 'nats://b:2'] });
  assert.deepEqual(clusterFlags({ cluster: 'nats://a:1', 'cluster-user': 'hub1' }, { CROSSBUS_CLUSTER_PASSWORD: 'pw' }), {
    servers: ['nats://a:1'],
    user: 'hub1',
    password: 'pw',
  });
  assert.deepEqual(clusterFlags({ 'cluster-user': 'hub1', 'cluster-password-file': '/p' }, {}), { user: 'hub1', passwordFile: '/p' });
  assert.throws(() => clusterFlags({ cluster: 'nats://a:1', 'cluster-user': 'hub1' }, {}), /--cluster-password-file/);
  assert.throws(() => clusterFlags({ 'cluster-password-file': '/p' }, {}), /goes with --cluster-user/);
  assert.throws(() => clusterFlags({ cluster: ' , ' }, {}), /--cluster takes/);
  assert.deepEqual(clusterFlags({ cluster: 'nats://a:1', 'cluster-local-only': true }, {}), {
    servers: ['nats://a:1'],
    whenUnreachable: 'local-only',
  });
});

test('the config section: parsed, its files relative to the config file, written back as read', () => {
  const cfg = parseHubConfig({
    apps: { a: { secret: Buffer.alloc(32, 1).toString('base64') } },
    cluster: {
      servers: ['nats://a:4222'],
      user: 'hub1',
      passwordFile: 'nats.pw',
      tls: { caFile: 'ca.pem' },
      whenUnreachable: 'local-only',
    },
  });
  assert.equal(cfg.cluster?.user, 'hub1');
  const opts = clusterFromConfig(cfg.cluster!, '/etc/crossbus/crossbus.config.json');
  assert.equal(opts.passwordFile, '/etc/crossbus/nats.pw');
  assert.deepEqual(opts.tls, { caFile: '/etc/crossbus/ca.pem' });
  assert.deepEqual(parseHubConfig(serializeHubConfig(cfg)).cluster, cfg.cluster);
  assert.throws(() => parseHubConfig({ apps: {}, cluster: { servers: [] } }), /cluster\.servers/);
  assert.throws(() => parseHubConfig({ apps: {}, cluster: { servers: ['nats://a:1'], password: 'inline' } }), /password/);
  assert.throws(() => parseHubConfig({ apps: {}, cluster: { servers: ['nats://a:1'], connectTimeoutMs: 99 } }), /connectTimeoutMs/);
});

test('reply topics of requests that cross: everything the requesting hub needs, parsed back only for that hub', () => {
  const env = envelope(Kind.REQUEST, { id: 77, topic: 'svc.x', replyTo: '_INBOX.k3y.12' });
  const topic = clusterReplyTopic('hubA', 5, env, false);
  assert.equal(topic, '_INBOX.$cluster.hubA.5.77.0._INBOX.k3y.12');
  assert.deepEqual(parseClusterReplyTopic(topic, 'hubA'), {
    sessionSeq: 5,
    requestId: 77,
    localResponders: false,
    replyTo: '_INBOX.k3y.12',
  });
  assert.equal(parseClusterReplyTopic(topic, 'hubB'), undefined, 'another hub’s');
  assert.equal(parseClusterReplyTopic('_INBOX.$cluster.hubA.5.77.2._INBOX.k.1', 'hubA'), undefined, 'bad flag');
  assert.equal(parseClusterReplyTopic('_INBOX.$cluster.hubA.x.77.1._INBOX.k.1', 'hubA'), undefined, 'bad seq');
  assert.equal(parseClusterReplyTopic('_INBOX.$cluster.hubA.5.77.1.orders.new', 'hubA'), undefined, 'not an inbox');
  assert.equal(clusterReplyTopic('hubA', 5, env, true).split('.')[5], '1');
});

test('what never crosses: $ topics (NATS’s JetStream API and the stored streams among them) and client inboxes', () => {
  assert.equal(isLocalOnly('$SYS.REQ.STATS'), true);
  assert.equal(isLocalOnly('$SYS.>'), true);
  for (const t of ['$JS.API.STREAM.DELETE.CB_LOG_X', '$JS.>', '$KV.CB_catalog.x', '$CB.STREAM.orders.log.a', '$CB.WATCH.>', '$G'])
    assert.equal(isLocalOnly(t), true, t);
  for (const t of ['$JS.API.INFO', '_INBOX.abc.1', '_INBOX.$cluster.hubA.1.2.0._INBOX.k.1']) assert.equal(isReservedSubject(t), true, t);
  assert.equal(isReservedSubject('orders.new'), false);
  assert.equal(isLocalOnly('_INBOX.abc.>'), true);
  assert.equal(isLocalOnly('_INBOX.$cluster.hubA.1.2.0._INBOX.k.1'), false);
  assert.equal(isLocalOnly('orders.>'), false);
  assert.equal(isLocalOnly('>'), false);
});

test('which nats-server versions can fsync every write (what the hub says at join)', () => {
  for (const v of ['2.10.0', '2.10.22', 'v2.11.1', '3.0.0']) assert.equal(canSyncEveryWrite(v), true, v);
  for (const v of ['2.9.10', '2.9.25', '1.4.1', 'unknown', '']) assert.equal(canSyncEveryWrite(v), false, v);
});
