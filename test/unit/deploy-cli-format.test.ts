/**
 * `crossbus deploy`'s pure parts: the DeploymentConfig from a file and the flags (a repeated
 * value is fine, a contradiction is CB_ERR_CONFLICTING_OPTIONS, the result validated by the
 * core's schema), and what the terminal shows of deployments (progress lines, the status line,
 * the outcome, the status and history tables).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDeployConfig, mergeDeployConfig } from '../../src/cli/deploy-config-flags.js';
import {
  DeployLines,
  analysisText,
  deploymentSummary,
  formatElapsed,
  formatHistory,
  formatRate,
  formatStatus,
  outcomeLine,
  statusLine,
} from '../../src/cli/deploy-format.js';
import { UsageError } from '../../src/cli/options.js';
import { codeOf, rejectsWithCode } from '../helpers/rejects.js';
import { T0, analysis, appStatus, deployment, revision, step } from '../helpers/deploy-records.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

describe('the deployment config from --config and the flags', () => {
  test('no file: the flags alone, validated with the defaults filled in; only what was given is sent', () => {
    const { input, config } = mergeDeployConfig(undefined, { strategy: 'canary', env: 'production' });
    assert.deepEqual(input, { strategy: 'canary', targetEnvironment: 'production' });
    assert.equal(config.strategy, 'canary');
    assert.equal(config.targetEnvironment, 'production');
    assert.equal(config.rollbackEnabled, true);
    assert.deepEqual(mergeDeployConfig(undefined, {}).input, {});
    assert.equal(mergeDeployConfig(undefined, {}).config.strategy, 'rolling');
  });

  test('a file with the flags over it; a flag that repeats the file is fine; the file object is not changed', () => {
    const file = Object.freeze({ strategy: 'canary', canary: { steps: [{ weight: 20, pauseMs: 1000 }] } });
    const { input, config } = mergeDeployConfig(file, { strategy: 'canary', env: 'staging' }, 'deploy.json');
    assert.deepEqual(input, { ...file, targetEnvironment: 'staging' });
    assert.deepEqual(
      config.canary.steps.map((s) => [s.weight, s.pauseMs]),
      [[20, 1000]],
    );
    assert.deepEqual(Object.keys(file), ['strategy', 'canary']);
  });

  test('a flag that contradicts the file: CB_ERR_CONFLICTING_OPTIONS naming both values and the file', () => {
    const strategy = thrown(() => mergeDeployConfig({ strategy: 'blue-green' }, { strategy: 'rolling' }, 'deploy.yaml'));
    assert.equal(codeOf(strategy), 'CB_ERR_CONFLICTING_OPTIONS');
    assert.match((strategy as Error).message, /--strategy rolling contradicts strategy: "blue-green" in deploy\.yaml/);
    const env = thrown(() => mergeDeployConfig({ targetEnvironment: 'staging' }, { env: 'production' }, 'deploy.yaml'));
    assert.equal(codeOf(env), 'CB_ERR_CONFLICTING_OPTIONS');
    assert.match((env as Error).message, /--env production contradicts targetEnvironment: "staging"/);
  });

  test('a flag value that is none of its choices is a usage error; the schema refuses a bad file with its path', () => {
    assert.ok(thrown(() => mergeDeployConfig(undefined, { strategy: 'big-bang' })) instanceof UsageError);
    assert.match((thrown(() => mergeDeployConfig(undefined, { env: 'prod' })) as Error).message, /--env must be development, staging/);
    const bad = thrown(() =>
      mergeDeployConfig(
        {
          canary: {
            steps: [
              { weight: 50, pauseMs: 1 },
              { weight: 10, pauseMs: 1 },
            ],
          },
        },
        {},
        'd.json',
      ),
    );
    assert.equal(codeOf(bad), 'CB_ERR_CONFIG_INVALID');
    assert.match((bad as Error).message, /^d\.json: canary\.steps\[1\]\.weight: must be above/);
    for (const raw of [[], 'canary', 7])
      assert.equal(codeOf(thrown(() => mergeDeployConfig(raw, { strategy: 'canary' }, 'd.json'))), 'CB_ERR_CONFIG_INVALID');
    assert.equal(codeOf(thrown(() => mergeDeployConfig({ strategy: 'canary', colour: 'blue' }, {}))), 'CB_ERR_CONFIG_INVALID');
  });

  test('read from YAML or JSON as the hub config is; an unreadable or unknown file type is CB_ERR_CONFIG_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossbus-deploy-config-'));
    writeFileSync(join(dir, 'deploy.yaml'), 'strategy: blue-green\nblueGreen:\n  autoPromote: false\n');
    const yaml = await loadDeployConfig(join(dir, 'deploy.yaml'), { env: 'testing' });
    assert.deepEqual(yaml.input, { strategy: 'blue-green', blueGreen: { autoPromote: false }, targetEnvironment: 'testing' });
    writeFileSync(join(dir, 'deploy.json'), '{"strategy": "rolling", "rolling": {"maxSurge": 0, "maxUnavailable": 0}}');
    const err = await rejectsWithCode(loadDeployConfig(join(dir, 'deploy.json'), {}), 'CB_ERR_CONFIG_INVALID');
    assert.match(err.message, /deploy\.json: rolling\.maxSurge: maxSurge and maxUnavailable cannot both be 0/);
    await rejectsWithCode(loadDeployConfig(join(dir, 'missing.json'), {}), 'CB_ERR_CONFIG_INVALID');
    writeFileSync(join(dir, 'deploy.toml'), 'strategy = "canary"');
    await rejectsWithCode(loadDeployConfig(join(dir, 'deploy.toml'), {}), 'CB_ERR_CONFIG_INVALID');
  });
});

describe('what the terminal shows', () => {
  test('small formats: elapsed time, error rates, an analysis', () => {
    assert.deepEqual([0, 4_230, 12_900, 65_000, 3_723_000].map(formatElapsed), ['0.0s', '4.2s', '12s', '1m 05s', '1h 02m']);
    assert.deepEqual([0, 0.004, 0.2, 1].map(formatRate), ['0%', '0.40%', '20.0%', '100.0%']);
    assert.equal(analysisText(analysis()), 'analysis pass: error rate 0.40% (1 of 250), p99 <= 25 ms');
    assert.equal(
      analysisText(analysis({ verdict: 'fail', errors: 50, errorRate: 0.2, p99Ms: null, reason: 'error rate 20.0% over 5.0%' })),
      'analysis fail: error rate 20.0% (50 of 250), p99 - (error rate 20.0% over 5.0%)',
    );
  });

  test('a record in one line, the status line, the outcome with its reason', () => {
    const r = deployment({ phase: 'verify', weight: 50, step: 1, waiting: true, updatedAt: T0 + 32_000 });
    assert.equal(
      deploymentSummary(r),
      "demo 1.0.0 -> 1.1.0 (canary, staging): verify, weight 50%, step 2, waiting for 'crossbus deploy promote demo'",
    );
    assert.equal(
      statusLine(r, T0 + 32_000),
      `demo 1.0.0 -> 1.1.0 · canary · verify, weight 50%, step 2, waiting for 'crossbus deploy promote demo' · 32s`,
    );
    assert.equal(
      deploymentSummary(deployment({ from: undefined, strategy: 'rolling' })),
      'demo 1.1.0 (rolling, staging): stage, weight 0%',
    );
    assert.equal(outcomeLine(deployment({ outcome: 'succeeded', endedAt: T0 + 42_000 })), 'demo 1.0.0 -> 1.1.0 succeeded in 42s');
    assert.equal(
      outcomeLine(deployment({ outcome: 'rolled-back', endedAt: T0 + 20_000, reason: 'analysis failed at step 1' })),
      'demo 1.0.0 -> 1.1.0 rolled back after 20s: analysis failed at step 1',
    );
    assert.equal(
      outcomeLine(deployment({ outcome: 'aborted', endedAt: T0 + 5_000, reason: 'by app:admin' })),
      'demo 1.0.0 -> 1.1.0 aborted after 5.0s: by app:admin',
    );
  });

  test('DeployLines: each new event once, weight changes, each analysis once; older records and other ids give nothing', () => {
    const lines = new DeployLines('d-1');
    const r0 = deployment();
    assert.deepEqual(lines.next(r0), ['+0.0s   stage      0%  staging 1.1.0: 2 instances']);
    assert.deepEqual(lines.next(r0), [], 'the same record again');
    const r1 = step(r0, { at: T0 + 4_200, phase: 'promote', message: 'canary step 1: 10% of requests' }, { weight: 10, step: 0 });
    assert.deepEqual(lines.next(r1), ['+4.2s   promote   10%  canary step 1: 10% of requests', '+4.2s   promote   10%  weight 0% -> 10%']);
    const r2 = { ...r1, phase: 'verify' as const, updatedAt: T0 + 14_200, analysis: analysis({ at: T0 + 14_200 }) };
    assert.deepEqual(lines.next(r2), ['+14s    verify    10%  analysis pass: error rate 0.40% (1 of 250), p99 <= 25 ms']);
    assert.deepEqual(lines.next(r1), [], 'a poll answer older than what was shown');
    assert.deepEqual(lines.next({ ...r2, id: 'd-2', updatedAt: T0 + 99_000 }), [], 'another deployment');
    // Strings from the hub reach a terminal: no escape sequences.
    const r3 = step(r2, { at: T0 + 15_000, phase: 'rollback', message: 'bad\u001b[2Jthing' });
    assert.deepEqual(lines.next(r3), ['+15s    rollback  10%  bad?[2Jthing']);
  });

  test('status: a row per app; with one app its deployment, analysis and instances', () => {
    const canary = deployment({ phase: 'verify', weight: 50, step: 1, updatedAt: T0 + 20_000, analysis: analysis() });
    const apps = [
      appStatus({ previous: revision('0.9.0'), deployment: canary }),
      appStatus({ app: 'site', active: undefined, instances: [] }),
    ];
    const all = formatStatus(apps, false);
    assert.match(all, /^ {2}APP +ACTIVE +PREVIOUS +DEPLOYMENT +INSTANCES\n/);
    assert.match(all, /\n {2}demo +1\.0\.0 +0\.9\.0 +canary -> 1\.1\.0: verify 50% step 2 +2 \(2 running\)\n/);
    assert.match(all, /\n {2}site +- +- +- +0\n$/);
    assert.doesNotMatch(all, /Instances of/);
    const one = formatStatus([apps[0]!], true);
    assert.match(one, /Deployment d-1: demo 1\.0\.0 -> 1\.1\.0 \(canary, staging\): verify, weight 50%, step 2\n/);
    assert.match(one, / {2}analysis pass: error rate 0\.40% \(1 of 250\), p99 <= 25 ms\n/);
    assert.match(
      one,
      /Instances of demo \(2\):\n {2}REVISION +INSTANCE +STATE +PID +WEIGHT\n {2}1\.0\.0-0123456789ab +demo-0 +running +4242 +1\n/,
    );
    assert.equal(formatStatus([], false), 'No apps deployed.\n');
  });

  test('history: newest first as answered, outcome or the phase of one still running', () => {
    const text = formatHistory([
      deployment({ id: 'd-2', phase: 'verify' }),
      deployment({ outcome: 'rolled-back', endedAt: T0 + 90_000, reason: 'crash loop', strategy: 'rolling', from: undefined }),
    ]);
    const [head, second, first] = text.trimEnd().split('\n');
    assert.match(head!, /STARTED +ID +STRATEGY +ENV +FROM +TO +RESULT +TOOK +BY +REASON/);
    assert.match(second!, /2026-01-31T12:00:00\.000Z +d-2 +canary +staging +1\.0\.0 +1\.1\.0 +verify \(running\) +- +app:admin/);
    assert.match(first!, /d-1 +rolling +staging +- +1\.1\.0 +rolled back +1m 30s +app:admin +crash loop$/);
    assert.equal(formatHistory([]), 'No deployments yet.\n');
  });
});
