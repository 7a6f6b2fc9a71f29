/**
 * `crossbus deploy` without a hub, against a fake of the deployment manager's wire: start packs
 * the app and follows its records to the outcome (exit 0 only for succeeded), records published
 * before START answers are not lost, a silent hub is read by polling, a closed connection or an
 * interrupt ends the following with a message; status, history and the actions; usage errors
 * and refusals in the CLI's words. The real hub: test/integration/deploy-cli.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployCommand, type DeployConnection, type DeployIo } from '../../src/cli/commands/deploy.js';
import { UsageError } from '../../src/cli/options.js';
import type { AppPackage, DeploymentRecord } from '../../src/core/apps/deploy-topics.js';
import { createError, type CrossbusError } from '../../src/core/errors/index.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';
import { T0, analysis, appStatus, deployment, step } from '../helpers/deploy-records.js';

type Answer = (data: unknown) => unknown;

/** The hub's side of the wire, in memory: answers by topic, subscriptions, a way to close. */
class FakeHub implements DeployConnection {
  readonly answers = new Map<string, Answer>();
  readonly requests: Array<{ topic: string; data: unknown; timeoutMs: number | undefined }> = [];
  readonly subscriptions = new Map<string, Set<(m: { data: unknown }) => void>>();
  readonly #closed = new Set<(e: { error: CrossbusError | undefined }) => void>();
  opened = 0;
  closed = false;

  answer(topic: string, f: Answer): this {
    this.answers.set(topic, f);
    return this;
  }
  async request<T>(topic: string, data?: unknown, options?: { timeoutMs?: number }): Promise<T> {
    this.requests.push({ topic, data, timeoutMs: options?.timeoutMs });
    const f = this.answers.get(topic);
    if (f === undefined) throw createError('CB_ERR_NO_RESPONDERS', `no responders for ${topic}`);
    return (await f(data)) as T;
  }
  subscribe(topic: string, handler: (m: { data: unknown }) => void) {
    const set = this.subscriptions.get(topic) ?? new Set();
    set.add(handler);
    this.subscriptions.set(topic, set);
    return { ready: Promise.resolve(), unsubscribe: () => void set.delete(handler) };
  }
  publish(topic: string, data: unknown): void {
    for (const h of this.subscriptions.get(topic) ?? []) h({ data: structuredClone(data) });
  }
  on(_name: 'closed', listener: (e: { error: CrossbusError | undefined }) => void): () => void {
    this.#closed.add(listener);
    return () => void this.#closed.delete(listener);
  }
  drop(error: CrossbusError): void {
    for (const l of this.#closed) l({ error });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

interface Captured extends DeployIo {
  out: string[];
  err: string[];
  text(): string;
}

function io(over: Partial<DeployIo> = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    pollMs: 60_000,
    text: () => out.join(''),
    ...over,
  };
}

function appFolder(name = 'demo', version = '1.1.0'): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-deploy-app-'));
  writeFileSync(join(dir, 'crossbus.app.json'), JSON.stringify({ name, version, kind: 'node', entry: 'main.mjs', instances: 2 }));
  writeFileSync(join(dir, 'main.mjs'), 'export {};\n');
  return dir;
}

const run = (args: string[], hub: FakeHub, captured: Captured) =>
  deployCommand(args, captured, async () => {
    hub.opened++;
    return hub;
  });

const EVENTS = '$SYS.DEPLOY.demo';
const staged = deployment();
const promoted = step(staged, { at: T0 + 2_000, phase: 'promote', message: 'step 1: 10%' }, { weight: 10, step: 0 });
const verified = { ...step(promoted, { at: T0 + 12_000, phase: 'verify', message: 'analysing' }), analysis: analysis({ at: T0 + 12_000 }) };
const succeeded = step(
  verified,
  { at: T0 + 30_000, phase: 'done', message: '1.1.0 serves everything' },
  {
    weight: 100,
    outcome: 'succeeded',
    endedAt: T0 + 30_000,
  },
);
const rolledBack = step(
  verified,
  { at: T0 + 22_000, phase: 'rollback', message: 'analysis failed: rolling back' },
  {
    weight: 0,
    outcome: 'rolled-back',
    endedAt: T0 + 22_000,
    reason: 'error rate 20.0% over 5.0% at step 1',
    analysis: analysis({ at: T0 + 22_000, verdict: 'fail', errors: 50, errorRate: 0.2 }),
  },
);

/** START answered with `staged` after `before` records were published; `after` records published next. */
function deploying(hub: FakeHub, before: DeploymentRecord[], after: DeploymentRecord[]): FakeHub {
  return hub.answer('$SYS.REQ.DEPLOY.START', () => {
    for (const r of before) hub.publish(EVENTS, r);
    setImmediate(() => {
      for (const r of after) hub.publish(EVENTS, r);
    });
    return { deployment: staged };
  });
}

describe('crossbus deploy start', () => {
  test('packs the app, sends it with the merged config, prints each step to the outcome: exit 0', async () => {
    const hub = deploying(new FakeHub(), [promoted], [verified, succeeded]);
    const dir = appFolder();
    writeFileSync(join(dir, 'deploy.yaml'), 'strategy: canary\ncanary:\n  steps:\n    - weight: 10\n      pauseMs: 1000\n');
    const c = io();
    const code = await run(['start', dir, '--config', join(dir, 'deploy.yaml'), '--env', 'staging', '--timeout', '9000'], hub, c);
    assert.equal(code, 0, c.err.join(''));
    const start = hub.requests.find((r) => r.topic === '$SYS.REQ.DEPLOY.START');
    const sent = start?.data as { package: AppPackage; config: Record<string, unknown> };
    assert.deepEqual(
      sent.package.files.map((f) => f.path),
      ['crossbus.app.json', 'deploy.yaml', 'main.mjs'],
    );
    assert.match(sent.package.checksum, /^[0-9a-f]{64}$/);
    assert.deepEqual(sent.config, { strategy: 'canary', canary: { steps: [{ weight: 10, pauseMs: 1000 }] }, targetEnvironment: 'staging' });
    assert.equal(start?.timeoutMs, 9000);
    const lines = c.text().trimEnd().split('\n');
    assert.match(lines[0]!, /^prepared demo 1\.1\.0: 3 files, \d+ B, sha256 [0-9a-f]{12}$/);
    assert.equal(lines[1], 'deployment d-1 started: demo 1.0.0 -> 1.1.0 (canary, staging): stage, weight 0%');
    assert.deepEqual(lines.slice(2), [
      '+0.0s   stage      0%  staging 1.1.0: 2 instances',
      // Published before START answered: kept, not lost.
      '+2.0s   promote   10%  step 1: 10%',
      '+2.0s   promote   10%  weight 0% -> 10%',
      '+12s    verify    10%  analysing',
      '+12s    verify    10%  analysis pass: error rate 0.40% (1 of 250), p99 <= 25 ms',
      '+30s    done     100%  1.1.0 serves everything',
      '+30s    done     100%  weight 10% -> 100%',
      'demo 1.0.0 -> 1.1.0 succeeded in 30s',
    ]);
    assert.equal(hub.closed, true);
    assert.equal(hub.subscriptions.get(EVENTS)?.size, 0, 'the watch is closed');
  });

  test('rolled back: exit 1 with the reason; --json: the final record on stdout, the steps on stderr', async () => {
    const hub = deploying(new FakeHub(), [], [promoted, verified, rolledBack]);
    const c = io();
    assert.equal(await run(['start', appFolder(), '--json'], hub, c), 1);
    assert.deepEqual(JSON.parse(c.text()), JSON.parse(JSON.stringify(rolledBack)));
    const err = c.err.join('');
    assert.match(err, /analysis fail: error rate 20\.0% \(50 of 250\)/);
    assert.match(err, /demo 1\.0\.0 -> 1\.1\.0 rolled back after 22s: error rate 20\.0% over 5\.0% at step 1\n$/);
  });

  test('a hub that publishes nothing: the record is read by polling (STATUS, then HISTORY once it ended)', async () => {
    let polls = 0;
    const hub = deploying(new FakeHub(), [], [])
      .answer('$SYS.REQ.DEPLOY.STATUS', () => ({ apps: [appStatus({ deployment: ++polls === 1 ? verified : undefined })] }))
      .answer('$SYS.REQ.DEPLOY.HISTORY', () => ({ history: [{ ...rolledBack, id: 'd-0' }, succeeded] }));
    const c = io({ pollMs: 10 });
    assert.equal(await run(['start', appFolder()], hub, c), 0);
    assert.match(c.text(), /analysis pass[^\n]*\n[^\n]*1\.1\.0 serves everything\n[^\n]*\ndemo 1\.0\.0 -> 1\.1\.0 succeeded in 30s\n$/);
    assert.deepEqual(
      hub.requests.slice(1, 4).map((r) => [r.topic, r.data]),
      [
        ['$SYS.REQ.DEPLOY.STATUS', { app: 'demo' }],
        ['$SYS.REQ.DEPLOY.STATUS', { app: 'demo' }],
        ['$SYS.REQ.DEPLOY.HISTORY', { app: 'demo' }],
      ],
    );
  });

  test('--detach: returns once staged, without watching', async () => {
    const hub = deploying(new FakeHub(), [], []);
    const c = io();
    assert.equal(await run(['start', appFolder(), '--detach'], hub, c), 0);
    assert.equal(hub.subscriptions.size, 0);
    assert.match(c.text(), /deployment d-1 started: .*\nfollow it with 'crossbus deploy status demo'\n$/);
  });

  test('the connection closing, or an interrupt, ends the following: exit 1, the deployment goes on', async () => {
    const hub = deploying(new FakeHub(), [], []);
    const c = io();
    const closing = run(['start', appFolder()], hub, c);
    await until(() => c.text().includes('started'), 2_000, 'the deployment started');
    hub.drop(createError('CB_ERR_CONNECTION_CLOSED', 'gone'));
    assert.equal(await closing, 1);
    assert.match(
      c.err.join(''),
      /the connection to the hub closed \(CB_ERR_CONNECTION_CLOSED\) while following deployment d-1; it goes on/,
    );

    let interrupt: (() => void) | undefined;
    const c2 = io({
      onInterrupt: (h) => {
        interrupt = h;
        return () => (interrupt = undefined);
      },
    });
    const interrupted = run(['start', appFolder()], deploying(new FakeHub(), [], []), c2);
    await until(() => interrupt !== undefined, 2_000, 'the interrupt handler');
    interrupt?.();
    assert.equal(await interrupted, 1);
    assert.match(
      c2.err.join(''),
      /stopped following deployment d-1; it goes on in the hub \('crossbus deploy status demo', 'crossbus deploy abort demo'\)/,
    );
    assert.equal(interrupt, undefined, 'the handler is removed');
  });

  test('on a terminal: one status line under the steps, redrawn in place and cleared at the end', async () => {
    const hub = deploying(new FakeHub(), [], [promoted, succeeded]);
    const writes: string[] = [];
    const c = io({ terminal: { write: (s: string) => void writes.push(s), isTTY: true, columns: 48 } });
    assert.equal(await run(['start', appFolder()], hub, c), 0);
    const screen = writes.join('');
    assert.match(screen, /\+0\.0s {3}stage {6}0% {2}staging 1\.1\.0: 2 instances\ndemo 1\.0\.0 -> 1\.1\.0 · canary · stage, weight 0…/);
    assert.match(screen, /\r {20,}\r\+2\.0s/, 'the status line erased before the next lines');
    // The status line (what follows the last line end of a write) is cut to the terminal's width: a wrapped one could not be redrawn.
    const statuses = writes.map((w) => w.slice(w.lastIndexOf('\n') + 1)).filter((s) => s.trim() !== '');
    assert.ok(statuses.length >= 2);
    for (const s of statuses) assert.ok(s.length === 47 && s.endsWith('…'), s);
    assert.match(screen, /\ndemo 1\.0\.0 -> 1\.1\.0 succeeded in 30s\n$/);
  });

  test('before connecting: a contradicting flag, a bad flag value, a bad manifest', async () => {
    const hub = new FakeHub();
    const dir = appFolder();
    writeFileSync(join(dir, 'deploy.json'), '{"strategy": "blue-green"}');
    await rejectsWithCode(
      run(['start', dir, '--config', join(dir, 'deploy.json'), '--strategy', 'canary'], hub, io()),
      'CB_ERR_CONFLICTING_OPTIONS',
    );
    await assert.rejects(run(['start', dir, '--strategy', 'big-bang'], hub, io()), UsageError);
    writeFileSync(join(dir, 'crossbus.app.json'), JSON.stringify({ name: 'demo', version: '1', kind: 'node', entry: 'main.mjs' }));
    const err = await rejectsWithCode(run(['start', dir], hub, io()), 'CB_ERR_CONFIG_INVALID');
    assert.match(err.message, /crossbus\.app\.json: version: /);
    assert.equal(hub.opened, 0);
  });
});

describe('crossbus deploy status, history, promote, abort, rollback', () => {
  test('status: every app, or one in detail; --json the answer', async () => {
    const hub = new FakeHub().answer('$SYS.REQ.DEPLOY.STATUS', (d) => ({
      apps:
        (d as { app?: string }).app === undefined
          ? [appStatus(), appStatus({ app: 'site', instances: [] })]
          : [appStatus({ deployment: verified })],
    }));
    const all = io();
    assert.equal(await run(['status'], hub, all), 0);
    assert.match(all.text(), /demo +1\.0\.0 +- +- +2 \(2 running\)\n {2}site/);
    const one = io();
    assert.equal(await run(['status', 'demo'], hub, one), 0);
    assert.match(one.text(), /Deployment d-1: demo 1\.0\.0 -> 1\.1\.0 \(canary, staging\): verify, weight 10%, step 1\n/);
    assert.match(one.text(), /Instances of demo \(2\):/);
    const json = io();
    assert.equal(await run(['status', 'demo', '--json'], hub, json), 0);
    assert.equal(JSON.parse(json.text()).apps[0].deployment.id, 'd-1');
    assert.deepEqual(
      hub.requests.map((r) => r.data),
      [{}, { app: 'demo' }, { app: 'demo' }],
    );
  });

  test('history: the newest --limit; promote prints the record the hub answers', async () => {
    const hub = new FakeHub()
      .answer('$SYS.REQ.DEPLOY.HISTORY', () => ({ history: [succeeded, { ...rolledBack, id: 'd-0' }] }))
      .answer('$SYS.REQ.DEPLOY.PROMOTE', () => ({ deployment: promoted }));
    const h = io();
    assert.equal(await run(['history', 'demo', '--limit', '1'], hub, h), 0);
    assert.match(h.text(), /d-1 .* succeeded/);
    assert.doesNotMatch(h.text(), /d-0/);
    const hj = io();
    assert.equal(await run(['history', 'demo', '--json'], hub, hj), 0);
    assert.deepEqual(
      JSON.parse(hj.text()).history.map((r: DeploymentRecord) => r.id),
      ['d-1', 'd-0'],
    );
    const p = io();
    assert.equal(await run(['promote', 'demo'], hub, p), 0);
    assert.equal(p.text(), 'promoted: deployment d-1: demo 1.0.0 -> 1.1.0 (canary, staging): promote, weight 10%, step 1\n');
    assert.deepEqual(hub.requests.at(-1), { topic: '$SYS.REQ.DEPLOY.PROMOTE', data: { app: 'demo' }, timeoutMs: 5000 });
  });

  test('abort follows the deployment until the old version serves: exit 0 when it did, 1 when it had succeeded', async () => {
    const aborted = step(
      verified,
      { at: T0 + 15_000, phase: 'done', message: 'rolled back to 1.0.0' },
      {
        weight: 0,
        outcome: 'aborted',
        endedAt: T0 + 15_000,
        reason: 'aborted by admin',
      },
    );
    const hub = new FakeHub().answer('$SYS.REQ.DEPLOY.ABORT', () => {
      setImmediate(() => hub.publish(EVENTS, aborted));
      return { deployment: verified };
    });
    const c = io();
    assert.equal(await run(['abort', 'demo'], hub, c), 0);
    assert.match(c.text(), /^aborting deployment d-1: demo 1\.0\.0 -> 1\.1\.0 \(canary, staging\): verify, weight 10%, step 1\n/);
    assert.match(c.text(), /\ndemo 1\.0\.0 -> 1\.1\.0 aborted after 15s: aborted by admin\n$/);
    // Too late: it had succeeded before the abort arrived.
    const late = new FakeHub().answer('$SYS.REQ.DEPLOY.ABORT', () => {
      setImmediate(() => late.publish(EVENTS, succeeded));
      return { deployment: verified };
    });
    const l = io();
    assert.equal(await run(['abort', 'demo'], late, l), 1);
    assert.match(l.text(), /succeeded in 30s\n$/);
    // --detach: the answer only.
    const d = io();
    assert.equal(await run(['abort', 'demo', '--detach', '--json'], hub, d), 0);
    assert.equal(JSON.parse(d.text()).id, 'd-1');
  });

  test('rollback: with nothing in progress, a deployment of the previous version followed to success', async () => {
    const back = deployment({ id: 'd-3', strategy: 'rolling', from: '1.1.0', to: '1.0.0' });
    const backDone = step(
      back,
      { at: T0 + 8_000, phase: 'done', message: '1.0.0 is active' },
      {
        weight: 100,
        outcome: 'succeeded',
        endedAt: T0 + 8_000,
      },
    );
    const hub = new FakeHub()
      .answer('$SYS.REQ.DEPLOY.STATUS', () => ({ apps: [appStatus()] }))
      .answer('$SYS.REQ.DEPLOY.ROLLBACK', () => {
        setImmediate(() => hub.publish(EVENTS, backDone));
        return { deployment: back };
      });
    const r = io();
    assert.equal(await run(['rollback', 'demo', '--json', '--strategy', 'blue-green'], hub, r), 0);
    assert.equal(JSON.parse(r.text()).outcome, 'succeeded');
    assert.match(r.err.join(''), /^rolling back: deployment d-3 started: demo 1\.1\.0 -> 1\.0\.0 \(rolling, staging\)/);
    assert.deepEqual(
      hub.requests.map((q) => [q.topic, q.data]),
      [
        ['$SYS.REQ.DEPLOY.STATUS', { app: 'demo' }],
        ['$SYS.REQ.DEPLOY.ROLLBACK', { app: 'demo', config: { strategy: 'blue-green' } }],
      ],
    );
    // With a deployment in progress the hub aborts it: that ending aborted is the rollback done.
    const busy = new FakeHub()
      .answer('$SYS.REQ.DEPLOY.STATUS', () => ({ apps: [appStatus({ deployment: verified })] }))
      .answer('$SYS.REQ.DEPLOY.ROLLBACK', () => {
        setImmediate(() => busy.publish(EVENTS, { ...rolledBack, outcome: 'aborted' }));
        return { deployment: verified };
      });
    const b = io();
    assert.equal(await run(['rollback', 'demo'], busy, b), 0);
    assert.match(b.text(), /^aborting deployment d-1/);
  });

  test("the hub's refusals: code and message; no deployment manager or no grant explained", async () => {
    const hub = new FakeHub()
      .answer('$SYS.REQ.DEPLOY.STATUS', () => ({ apps: [appStatus()] }))
      .answer('$SYS.REQ.DEPLOY.ROLLBACK', () => {
        throw createError('CB_ERR_INVALID_OPTION', 'demo has no previous version to roll back to');
      })
      .answer('$SYS.REQ.DEPLOY.ABORT', () => {
        throw createError('CB_ERR_FORBIDDEN', 'request $SYS.REQ.DEPLOY.ABORT not allowed', { details: { action: 'request' } });
      });
    const none = io();
    assert.equal(await run(['rollback', 'demo'], hub, none), 1);
    assert.match(none.err.join(''), /^crossbus: demo has no previous version to roll back to \(CB_ERR_/);
    const forbidden = io();
    assert.equal(await run(['abort', 'demo'], hub, forbidden), 1);
    assert.match(
      forbidden.err.join(''),
      /not allowed: deploy needs an app with a request grant on \$SYS\.REQ\.DEPLOY\.ABORT, such as "admin"/,
    );
    const off = io();
    assert.equal(await run(['history', 'demo'], hub, off), 1);
    assert.match(
      off.err.join(''),
      /the hub answers no \$SYS\.REQ\.DEPLOY\.HISTORY: it runs no deployment manager .*\(CB_ERR_NO_RESPONDERS\)/,
    );
  });

  test('usage errors: exit 2 before connecting', async () => {
    const hub = new FakeHub();
    const cases: Array<[string[], RegExp]> = [
      [[], /deploy needs a subcommand: start, status, promote, abort, rollback, history/],
      [['statuss'], /unknown deploy subcommand "statuss" \(did you mean status\?\)/],
      [['history'], /deploy history takes <app>, got 0 arguments/],
      [['status', 'a', 'b'], /deploy status takes \[app\], got 2 arguments/],
      [['status', '--strategy', 'canary'], /unknown option --strategy/],
      [['promote', 'demo', '--detach'], /unknown option --detach/],
      [['history', 'demo', '--detach'], /unknown option --detach/],
    ];
    for (const [args, re] of cases) {
      const c = io();
      assert.equal(await run(args, hub, c), 2, args.join(' '));
      assert.match(c.err.join(''), re);
      assert.match(c.err.join(''), /Run 'crossbus deploy --help' for usage/);
    }
    await assert.rejects(run(['history', 'demo', '--limit', '0'], hub, io()), /--limit must be an integer in 1\.\.100000/);
    assert.equal(hub.opened, 0);
  });
});
