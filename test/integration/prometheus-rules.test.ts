/**
 * The Prometheus alerting rules we ship (docs/prometheus/crossbus-alerts.rules.yml): promtool
 * accepts them, their unit tests (crossbus-alerts.test.yml: fire and not fire for each rule)
 * pass, and they are the hub's own default rules in PromQL (names, thresholds, windows, `for`,
 * severities, metrics).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { defaultAlertRules } from '../../src/core/alerts/default-rules.js';

const DIR = fileURLToPath(new URL('../../docs/prometheus/', import.meta.url));
const RULES = 'crossbus-alerts.rules.yml';

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('promtool check rules accepts the rules file', () => {
  const r = promtool('check', 'rules', RULES);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, new RegExp(`SUCCESS: ${defaultAlertRules().length} rules found`));
});

test('promtool test rules: every rule fires where it should and not elsewhere', () => {
  const r = promtool('test', 'rules', 'crossbus-alerts.test.yml');
  assert.equal(r.status, 0, r.out);
  const tested = parse(readFileSync(`${DIR}crossbus-alerts.test.yml`, 'utf8')) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  for (const rule of defaultAlertRules()) {
    const cases = tested.tests.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === rule.name);
    assert.ok(
      cases.some((c) => c.exp_alerts.length > 0),
      `${rule.name} is tested firing`,
    );
    assert.ok(
      cases.some((c) => c.exp_alerts.length === 0),
      `${rule.name} is tested not firing`,
    );
  }
});

const DURATION = /^(\d+)([smh])$/;
const ms = (d: string | undefined): number => {
  if (d === undefined) return 0;
  const m = DURATION.exec(d);
  assert.ok(m, `duration ${d}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
};

test('the rules file says what the hub default rules say', () => {
  const doc = parse(readFileSync(`${DIR}${RULES}`, 'utf8')) as {
    groups: { rules: { alert: string; expr: string; for?: string; labels: { severity: string } }[] }[];
  };
  const rules = doc.groups.flatMap((g) => g.rules);
  assert.deepEqual(
    rules.map((r) => r.alert),
    defaultAlertRules().map((r) => r.name),
  );
  for (const d of defaultAlertRules()) {
    const r = rules.find((x) => x.alert === d.name);
    assert.ok(r !== undefined);
    assert.equal(ms(r.for), d.forMs, `${d.name}: for`);
    assert.equal(r.labels.severity, d.severity, `${d.name}: severity`);
    assert.ok(r.expr.includes(d.metric), `${d.name}: reads ${d.metric}`);
    assert.ok(r.expr.endsWith(`> ${d.threshold}`), `${d.name}: threshold ${d.threshold} in ${r.expr}`);
    if (d.fn !== 'value') {
      const window = /\[(\d+[smh])\]/.exec(r.expr)?.[1];
      assert.equal(ms(window), d.windowMs, `${d.name}: window`);
      const fn = { rate: 'rate(', increase: 'increase(', quantile: `histogram_quantile(${d.quantile},` }[d.fn];
      assert.ok(r.expr.includes(fn), `${d.name}: ${fn}`);
    }
  }
});
