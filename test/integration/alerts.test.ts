/**
 * Alerts end to end against a REAL hub process: failed handshakes (a client with a wrong secret)
 * make the hub's alert fire, and the alert arrives on the bus (`$SYS.ALERTS.<rule>`) and at a
 * webhook (a real local HTTP server); `$SYS.REQ.ALERTS` lists it; a silence is added and removed
 * by request (audited; refused without a grant); when the failures stop the alert resolves, and
 * the resolution arrives on both. Needs `npm run build` first.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Bus } from '../../src/node/index.js';
import { runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { secret, testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

let hub: HubProcess | undefined;
let web: Server | undefined;
const buses: Bus[] = [];
after(async () => {
  for (const b of buses) await b.close();
  if (hub?.alive()) await hub.stop();
  web?.closeAllConnections();
  web?.close();
});

interface AlertMessage {
  name: string;
  state: string;
  value: number;
  labels: Record<string, string>;
}

test('failed handshakes fire an alert on the bus and at the webhook, then it resolves', { timeout: 60_000 }, async () => {
  const posts: { status: string; alerts: AlertMessage[] }[] = [];
  web = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      posts.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((r) => web?.listen(0, '127.0.0.1', () => r()));
  const webhookUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}/alerts?token=t0ps3cret`;

  const config = testConfigDocument({
    limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } },
    alerts: {
      intervalMs: 200,
      defaultRules: false,
      rules: [
        {
          name: 'TooManyBadLogins',
          metric: 'crossbus_handshake_failures_total',
          fn: 'increase',
          windowMs: 2_000,
          threshold: 2,
          severity: 'critical',
          annotations: { summary: '{{ $value }} failed handshakes' },
        },
      ],
      webhook: { url: webhookUrl, timeoutMs: 2_000 },
    },
  });
  // `orders` may read alerts but not silence them.
  (config.roles as Record<string, { request: string[] }>)['orders-service']?.request.push('$SYS.REQ.ALERTS');
  hub = await startHubProcess([], { config });
  const admin = await connect(hub.url, { name: 'test', secret: config.apps.test.secret, reconnect: false });
  buses.push(admin);
  const onBus: AlertMessage[] = [];
  await admin.subscribe('$SYS.ALERTS.>', (m) => onBus.push(m.data as AlertMessage)).ready;

  // Real traffic: three clients with a wrong secret.
  for (let i = 0; i < 3; i++) {
    await assert.rejects(connect(hub.url, { name: 'orders', secret: secret(), reconnect: false, timeoutMs: 3_000 }));
  }
  await until(() => onBus.some((a) => a.state === 'firing'), 10_000, 'the alert on $SYS.ALERTS.>').catch((e) => {
    console.log(hub?.stdout(), hub?.stderr());
    throw e;
  });
  const firing = onBus.find((a) => a.state === 'firing');
  assert.equal(firing?.name, 'TooManyBadLogins');
  assert.equal(firing?.labels.severity, 'critical');
  assert.ok((firing?.value ?? 0) >= 3);
  await until(() => posts.some((p) => p.status === 'firing'), 10_000, 'the webhook POST');
  assert.equal(posts[0]?.alerts[0]?.name, 'TooManyBadLogins');

  // Listed while it fires; an app with only the list grant may read but not silence.
  const listed = (await admin.request('$SYS.REQ.ALERTS', null)) as { alerts: AlertMessage[]; rules: { name: string }[] };
  assert.deepEqual(
    listed.rules.map((r) => r.name),
    ['TooManyBadLogins'],
  );
  const orders = await connect(hub.url, { name: 'orders', secret: config.apps.orders.secret, reconnect: false });
  buses.push(orders);
  const seen = (await orders.request('$SYS.REQ.ALERTS', null)) as { alerts: AlertMessage[] };
  assert.ok(Array.isArray(seen.alerts));
  await assert.rejects(
    orders.request('$SYS.REQ.ALERTS.SILENCE.ADD', { matchers: { alertname: 'TooManyBadLogins' }, durationMs: 60_000 }),
    (e: { code?: string }) => e.code === 'CB_ERR_FORBIDDEN',
  );
  const silence = (await admin.request('$SYS.REQ.ALERTS.SILENCE.ADD', {
    matchers: { alertname: 'Other' },
    durationMs: 60_000,
    comment: 'maintenance',
  })) as { id: string; createdBy: string };
  assert.equal(silence.createdBy, 'test');
  const removed = (await admin.request('$SYS.REQ.ALERTS.SILENCE.REMOVE', { id: silence.id })) as { id: string };
  assert.equal(removed.id, silence.id);

  // The same through the CLI.
  const secretFile = join(hub.dataDir, 'test.secret');
  writeFileSync(secretFile, config.apps.test.secret, { mode: 0o600 });
  const flags = ['--url', hub.url, '--name', 'test', '--secret-file', secretFile];
  const ls = await runCli(['alerts', 'ls', ...flags]);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /Rules \(1\):[\s\S]*TooManyBadLogins\s+crossbus_handshake_failures_total\s+increase\s+> 2\s+critical/);
  const add = await runCli(['alerts', 'silence', 'add', '--match', 'alertname=Other', '--duration', '60000', '--comment', 'cli', ...flags]);
  assert.equal(add.code, 0, add.stderr);
  const id = /^silence ([0-9a-f]+) until /.exec(add.stdout)?.[1];
  assert.ok(id !== undefined, add.stdout);
  const listedJson = await runCli(['alerts', '--json', ...flags]);
  assert.deepEqual(
    (JSON.parse(listedJson.stdout) as { silences: { id: string; comment: string }[] }).silences.map((x) => [x.id, x.comment]),
    [[id, 'cli']],
  );
  const rm = await runCli(['alerts', 'silence', 'rm', id, ...flags]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout, `silence ${id} removed\n`);
  const again = await runCli(['alerts', 'silence', 'rm', id, ...flags]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no silence with id/);
  const bad = await runCli(['alerts', 'silence', 'add', ...flags]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--match/);

  // The failures stop: once they are out of the window, it resolves, on both.
  await until(() => onBus.some((a) => a.state === 'resolved'), 15_000, 'the resolution on the bus');
  await until(() => posts.some((p) => p.status === 'resolved'), 15_000, 'the resolution at the webhook');
  assert.equal(onBus.filter((a) => a.state === 'firing').length, 1, 'notified once while it fired');

  // Audited; and the webhook's token is in no log line.
  const audit = readFileSync(join(hub.dataDir, 'audit.jsonl'), 'utf8');
  assert.match(audit, /"action":"alert-silence"[^\n]*"reason":"added"/);
  assert.match(audit, /"action":"alert-silence"[^\n]*"reason":"removed"/);
  assert.equal(audit.match(/"action":"alert-silence"/g)?.length, 4, 'two silences added and removed, by request and by the CLI');
  assert.equal(`${hub.stdout()}${hub.stderr()}`.includes('t0ps3cret'), false);
  assert.match(`${hub.stdout()}${hub.stderr()}`, /alert TooManyBadLogins firing/);
});
