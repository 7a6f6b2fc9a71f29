/**
 * The alert engine as startHub wires it: on by default with the default rules, off with
 * `alerts: false`, a section in code checked like the file's, and `$SYS.REQ.ALERTS` answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from '../../src/hub/hub.js';
import { connect } from '../../src/node/index.js';
import { ConfigError } from '../../src/core/errors/index.js';
import { defaultAlertRules } from '../../src/core/alerts/default-rules.js';

test('a hub runs the default rules unless told otherwise, and answers $SYS.REQ.ALERTS', async () => {
  const hub = await startHub({ port: 0, insecure: true });
  const bus = await connect(hub.url, { reconnect: false });
  try {
    assert.deepEqual(
      hub.alerts?.rules.map((r) => r.name),
      defaultAlertRules().map((r) => r.name),
    );
    const snapshot = (await bus.request('$SYS.REQ.ALERTS', null)) as { alerts: unknown[]; rules: unknown[]; silences: unknown[] };
    assert.equal(snapshot.rules.length, defaultAlertRules().length);
    assert.deepEqual(snapshot.alerts, []);
    assert.ok(hub.metrics().some((m) => m.name === 'crossbus_alerts'));
  } finally {
    await bus.close();
    await hub.close();
  }
});

test('alerts: false turns the engine off; a section in code replaces the default and is checked', async () => {
  const off = await startHub({ port: 0, insecure: true, alerts: false });
  try {
    assert.equal(off.alerts, undefined);
    assert.equal(
      off.metrics().some((m) => m.name === 'crossbus_alerts'),
      false,
    );
  } finally {
    await off.close();
  }
  const own = await startHub({
    port: 0,
    insecure: true,
    alerts: { defaultRules: false, rules: [{ name: 'Mine', metric: 'crossbus_connections', threshold: 100 }] },
  });
  try {
    assert.deepEqual(
      own.alerts?.rules.map((r) => r.name),
      ['Mine'],
    );
  } finally {
    await own.close();
  }
  await assert.rejects(
    startHub({ port: 0, insecure: true, alerts: { intervalMs: 1 } }),
    (e: unknown) => e instanceof ConfigError && e.code === 'CB_ERR_CONFIG_INVALID' && /^alerts: intervalMs: /.test(e.message),
  );
});
