import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConsentManager,
  consentAuditEvent,
  parseConsentCommand,
  parseConsentState,
  type ConsentEvent,
  type ConsentManagerOptions,
  type ConsentPersistence,
  type ConsentState,
} from '../../src/core/security/consent.js';
import {
  CONSENT_FILE_NAME,
  CONSENT_INBOX_FILE_NAME,
  FileConsentStore,
  appendConsentCommand,
  drainConsentInbox,
} from '../../src/node/consent/consent-store.js';
import { consentCommand } from '../../src/cli/commands/consent.js';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { DEFAULT_CONSENT_TIMEOUT_MS } from '../../src/core/defaults.js';

let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'crossbus-consent-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
const freshDir = (): string => join(root, `d${++n}`);

/** Hand-driven clock and timers: `fire()` runs the timers due at the current time. */
function fakeTime(start = 1_700_000_000_000) {
  let t = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    setTimer: (fn: () => void, ms: number): unknown => {
      timers.set(++seq, { at: t + ms, fn });
      return seq;
    },
    clearTimer: (h: unknown): void => {
      timers.delete(h as number);
    },
    /** Moves the clock and runs due timers, as the event loop would. */
    advance(ms: number): void {
      t += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at <= t && timers.delete(id)) timer.fn();
      }
    },
    get active(): number {
      return timers.size;
    },
  };
}

class MemoryStore implements ConsentPersistence {
  saves = 0;
  constructor(public state: ConsentState = { decisions: [], pending: [] }) {}
  load(): ConsentState {
    return structuredClone(this.state);
  }
  save(s: ConsentState): void {
    this.saves++;
    this.state = structuredClone(s);
  }
}

async function setup(extra: Partial<ConsentManagerOptions> = {}) {
  const time = fakeTime();
  const events: ConsentEvent[] = [];
  const store = (extra.store as MemoryStore | undefined) ?? new MemoryStore();
  const m = await ConsentManager.open({
    store,
    timeoutMs: 1000,
    now: time.now,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { m, time, events, store };
}
/** Lets queued promise callbacks (settlements, saves) run. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: unknown) => (isCrossbusError(e) ? e.code : String(e)),
  );

describe('ConsentManager', () => {
  test('a grant settles the waiter and later requests at once; it is persisted', async () => {
    const { m, events, store } = await setup();
    const p = m.request('billing', 'publish', 'orders.>', 'orders.eu.created');
    const [pending] = m.list().pending;
    assert.ok(pending);
    assert.match(pending.id, /^[0-9a-f]{8}$/);
    assert.deepEqual(
      { ...pending, id: 'x' },
      {
        id: 'x',
        app: 'billing',
        action: 'publish',
        pattern: 'orders.>',
        target: 'orders.eu.created',
        createdAt: 1_700_000_000_000,
        expiresAt: 1_700_000_001_000,
      },
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['requested'],
    );
    const decision = await m.decide(pending.id, 'grant', 'alice');
    assert.equal(await p, 'granted');
    assert.equal(decision?.decision, 'granted');
    assert.equal(decision?.by, 'alice');
    assert.equal(decision?.id, pending.id, 'a decision keeps the id the person saw');
    assert.equal(await m.request('billing', 'publish', 'orders.>', 'orders.us.created'), 'granted');
    assert.equal(m.isGranted('billing', 'publish', 'orders.>'), true);
    assert.equal(m.isGranted('billing', 'subscribe', 'orders.>'), false);
    assert.deepEqual(store.state.pending, []);
    assert.deepEqual(store.state.decisions, [decision]);
    assert.deepEqual(
      events.map((e) => e.type),
      ['requested', 'decided'],
    );
  });

  test('a denial rejects the waiter and later requests with CB_ERR_CONSENT_DENIED', async () => {
    const { m } = await setup();
    const p = codeOf(m.request('a', 'subscribe', 'x.*', 'x.1'));
    await m.decide(m.list().pending[0]!.id, 'deny');
    assert.equal(await p, 'CB_ERR_CONSENT_DENIED');
    assert.equal(await codeOf(m.request('a', 'subscribe', 'x.*', 'x.2')), 'CB_ERR_CONSENT_DENIED');
    assert.equal(m.list().pending.length, 0, 'a known denial raises no new request');
  });

  test('requests for the same key join one pending request; other keys get their own', async () => {
    const { m, events } = await setup();
    const a = m.request('a', 'request', 'svc.>', 'svc.one');
    const b = m.request('a', 'request', 'svc.>', 'svc.two');
    const other = codeOf(m.request('b', 'request', 'svc.>', 'svc.one'));
    assert.equal(m.list().pending.length, 2);
    assert.equal(events.filter((e) => e.type === 'requested').length, 2);
    const mine = m.list().pending.find((r) => r.app === 'a')!;
    assert.equal(mine.target, 'svc.one', 'the first target is the one shown');
    await m.decide(mine.id, 'grant');
    assert.deepEqual(await Promise.all([a, b]), ['granted', 'granted']);
    await m.close();
    assert.equal(await other, 'CB_ERR_HUB_SHUTTING_DOWN');
  });

  test('an unanswered request times out as a denial of that request only', async () => {
    const { m, time, events, store } = await setup();
    const p = codeOf(m.request('a', 'publish', 'p', 'p'));
    time.advance(999);
    await tick();
    assert.equal(m.list().pending.length, 1);
    time.advance(1);
    assert.equal(await p, 'CB_ERR_CONSENT_TIMEOUT');
    const timeout = events.find((e) => e.type === 'timeout');
    assert.deepEqual(timeout && { type: timeout.type, outcome: (timeout as { outcome: string }).outcome }, {
      type: 'timeout',
      outcome: 'denied',
    });
    assert.equal(m.list().decisions.length, 0, 'no persistent denial');
    await tick();
    assert.deepEqual(store.state.pending, []);
    // Asking again raises a fresh request.
    void codeOf(m.request('a', 'publish', 'p', 'p'));
    assert.equal(m.list().pending.length, 1);
    assert.equal(await m.decide('nonexistent', 'grant'), undefined);
  });

  test('a timer firing early does not expire the request before its time', async () => {
    let fire: (() => void) | undefined;
    const time = fakeTime();
    const m = await ConsentManager.open({
      store: new MemoryStore(),
      timeoutMs: 1000,
      now: time.now,
      setTimer: (fn) => {
        fire = fn;
        return 1;
      },
      clearTimer: () => {},
    });
    void m.request('a', 'publish', 'p', 'p').catch(() => {});
    fire!();
    assert.equal(m.list().pending.length, 1);
  });

  test('revoke by key or by id removes the decision and emits revoked', async () => {
    const { m, events } = await setup();
    const p = m.request('a', 'subscribe', 's.>', 's.1');
    const id = m.list().pending[0]!.id;
    await m.decide(id, 'grant');
    await p;
    const removed = await m.revoke('a', 'subscribe', 's.>', 'bob');
    assert.equal(removed?.id, id);
    assert.equal(m.isGranted('a', 'subscribe', 's.>'), false);
    const revoked = events.at(-1);
    assert.equal(revoked?.type, 'revoked');
    assert.equal(consentAuditEvent(revoked!)?.details?.revokedBy, 'bob');
    assert.equal(await m.revoke(id), undefined, 'already gone');
    // By id, and a revoked denial means "ask again".
    const q = codeOf(m.request('a', 'subscribe', 's.>', 's.1'));
    const id2 = m.list().pending[0]!.id;
    await m.decide(id2, 'deny');
    assert.equal(await q, 'CB_ERR_CONSENT_DENIED');
    assert.equal((await m.revoke(id2))?.decision, 'denied');
    void codeOf(m.request('a', 'subscribe', 's.>', 's.1'));
    assert.equal(m.list().pending.length, 1);
  });

  test('apply carries out inbox commands and reports unknown ids', async () => {
    const { m } = await setup();
    const p = m.request('a', 'publish', 'p', 'p');
    const id = m.list().pending[0]!.id;
    assert.deepEqual(await m.apply({ op: 'grant', id: 'nope' }), { ok: false, reason: 'no pending request nope' });
    const r = await m.apply({ op: 'grant', id, by: 'carol' });
    assert.equal(r.ok, true);
    assert.equal(await p, 'granted');
    assert.equal((await m.apply({ op: 'revoke', id })).ok, true);
    assert.deepEqual(await m.apply({ op: 'revoke', id }), { ok: false, reason: 'no such decision' });
  });

  test('an aborted waiter stops waiting; the request stays for the person', async () => {
    const { m } = await setup();
    const ac = new AbortController();
    const p = m.request('a', 'publish', 'p', 'p', { signal: ac.signal });
    ac.abort(new Error('connection closed'));
    await assert.rejects(p, /connection closed/);
    assert.equal(m.list().pending.length, 1);
    const again = m.request('a', 'publish', 'p', 'p');
    await m.decide(m.list().pending[0]!.id, 'grant');
    assert.equal(await again, 'granted');
  });

  test('pending requests are bounded', async () => {
    const { m } = await setup({ maxPending: 2 });
    void m.request('a', 'publish', 'p1', 'p1').catch(() => {});
    void m.request('a', 'publish', 'p2', 'p2').catch(() => {});
    assert.equal(await codeOf(m.request('a', 'publish', 'p3', 'p3')), 'CB_ERR_RATE_LIMITED');
    await m.close();
  });

  test('a failing store or listener does not break decisions', async () => {
    const errors: unknown[] = [];
    const time = fakeTime();
    const store: ConsentPersistence = {
      load: () => ({ decisions: [], pending: [] }),
      save: () => {
        throw new Error('disk full');
      },
    };
    const m = await ConsentManager.open({
      store,
      now: time.now,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      onEvent: (e) => {
        if (e.type === 'error') errors.push(e.error);
        else throw new Error('bad listener');
      },
    });
    const p = m.request('a', 'publish', 'p', 'p');
    await m.decide(m.list().pending[0]!.id, 'grant');
    assert.equal(await p, 'granted');
    assert.ok(errors.length >= 1);
  });

  test('options and arguments are validated', async () => {
    const store = new MemoryStore();
    for (const o of [
      {},
      { store: {} },
      { store, timeoutMs: 0 },
      { store, timeoutMs: Infinity },
      { store, maxPending: 0 },
      { store, now: 5 },
    ]) {
      assert.throws(
        () => new ConsentManager(o as never),
        (e: unknown) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'),
        JSON.stringify(o),
      );
    }
    assert.equal(DEFAULT_CONSENT_TIMEOUT_MS, 60_000);
    const { m } = await setup();
    assert.equal(await codeOf(m.request('a', 'delete' as never, 'p', 'p')), 'CB_ERR_INVALID_OPTION');
    assert.equal(await codeOf(m.request('', 'publish', 'p', 'p')), 'CB_ERR_INVALID_OPTION');
    assert.equal(await codeOf(new ConsentManager({ store }).request('a', 'publish', 'p', 'p')), 'CB_ERR_INTERNAL', 'not loaded yet');
  });

  test('list returns copies', async () => {
    const { m } = await setup();
    void m.request('a', 'publish', 'p', 'p').catch(() => {});
    const l = m.list();
    (l.pending[0] as { app: string }).app = 'evil';
    l.pending.length = 0;
    assert.equal(m.list().pending[0]?.app, 'a');
    await m.close();
  });
});

describe('consent persistence (FileConsentStore)', () => {
  test('round trip, 0600, atomic (no temp files left)', async () => {
    const dir = freshDir();
    const store = new FileConsentStore(dir);
    assert.deepEqual(await store.load(), { decisions: [], pending: [] }, 'no file yet: empty');
    const state: ConsentState = {
      decisions: [{ id: 'aa', app: 'a', action: 'publish', pattern: 'p.>', decision: 'granted', decidedAt: 5, by: 'me' }],
      pending: [{ id: 'bb', app: 'b', action: 'request', pattern: 'q', target: 'q', createdAt: 1, expiresAt: 2 }],
    };
    await store.save(state);
    assert.deepEqual(await store.load(), state);
    assert.equal(statSync(join(dir, CONSENT_FILE_NAME)).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), [CONSENT_FILE_NAME]);
    assert.equal(JSON.parse(readFileSync(join(dir, CONSENT_FILE_NAME), 'utf8')).version, 1);
  });

  test('a damaged file fails loudly', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, CONSENT_FILE_NAME), '{"decisions": [{"id": "x"}]}');
    await assert.rejects(new FileConsentStore(dir).load(), (e: unknown) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'));
    writeFileSync(join(dir, CONSENT_FILE_NAME), '{not json');
    await assert.rejects(new FileConsentStore(dir).load(), (e: unknown) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'));
    assert.throws(() => parseConsentState({ version: 2 }), /unsupported version/);
  });

  test('restart: decisions hold, an open request is restored with its expiry, an expired one times out', async () => {
    const dir = freshDir();
    const time = fakeTime();
    const opts = (events: ConsentEvent[]): ConsentManagerOptions => ({
      store: new FileConsentStore(dir),
      timeoutMs: 1000,
      now: time.now,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      onEvent: (e) => events.push(e),
    });
    const first = await ConsentManager.open(opts([]));
    const g = first.request('a', 'publish', 'granted.>', 'granted.1');
    await first.decide(first.list().pending[0]!.id, 'grant');
    await g;
    time.advance(100);
    const held = codeOf(first.request('a', 'subscribe', 'held.>', 'held.1'));
    time.advance(200);
    const late = codeOf(first.request('b', 'request', 'late', 'late'));
    const heldReq = first.list().pending.find((r) => r.app === 'a')!;
    await first.close();
    assert.equal(await held, 'CB_ERR_HUB_SHUTTING_DOWN');
    assert.equal(await late, 'CB_ERR_HUB_SHUTTING_DOWN');
    assert.equal((await new FileConsentStore(dir).load()).pending.length, 2, 'close keeps pending requests stored');

    // Down for 850 ms: "held" (expires at +1100) is gone, "late" (expires at +1300) is still open.
    time.advance(850);
    const events: ConsentEvent[] = [];
    const second = await ConsentManager.open(opts(events));
    assert.equal(second.isGranted('a', 'publish', 'granted.>'), true);
    assert.deepEqual(
      events.map((e) => e.type),
      ['timeout'],
    );
    const [restored] = second.list().pending;
    assert.equal(restored?.app, 'b');
    assert.equal(restored?.expiresAt, heldReq.expiresAt + 200, 'original expiry kept');
    assert.equal((await new FileConsentStore(dir).load()).pending.length, 1, 'the expired one was removed from disk');
    // The app's next attempt joins the restored request; a person can still answer it.
    const again = second.request('b', 'request', 'late', 'late');
    await second.decide(restored!.id, 'grant', 'dave');
    assert.equal(await again, 'granted');
    await second.close();
    const third = await ConsentManager.open(opts([]));
    assert.equal(third.isGranted('b', 'request', 'late'), true, 'the answer to a restored request persists too');
    assert.equal(third.list().pending.length, 0);
    await third.close();
  });

  test('restored request times out at its original expiry', async () => {
    const store = new MemoryStore({
      decisions: [],
      pending: [{ id: 'cc', app: 'a', action: 'publish', pattern: 'p', target: 'p', createdAt: 0, expiresAt: 1_700_000_000_500 }],
    });
    const { m, time, events } = await setup({ store });
    const p = codeOf(m.request('a', 'publish', 'p', 'p'));
    time.advance(499);
    assert.equal(m.list().pending.length, 1);
    time.advance(1);
    assert.equal(await p, 'CB_ERR_CONSENT_TIMEOUT');
    assert.deepEqual(
      events.map((e) => e.type),
      ['timeout'],
    );
  });
});

describe('consent inbox', () => {
  test('append then drain returns commands in order and empties the inbox', async () => {
    const dir = freshDir();
    assert.deepEqual(await drainConsentInbox(dir), [], 'no inbox, no directory: nothing');
    await appendConsentCommand(dir, { op: 'grant', id: 'a1', by: 'me' });
    await appendConsentCommand(dir, { op: 'revoke', app: 'x', action: 'publish', pattern: 'p' });
    assert.equal(statSync(join(dir, CONSENT_INBOX_FILE_NAME)).mode & 0o777, 0o600);
    assert.deepEqual(await drainConsentInbox(dir), [
      { op: 'grant', id: 'a1', by: 'me' },
      { op: 'revoke', app: 'x', action: 'publish', pattern: 'p' },
    ]);
    assert.deepEqual(readdirSync(dir), []);
    assert.deepEqual(await drainConsentInbox(dir), []);
  });

  test('a leftover from a crashed drain comes first; bad lines are reported and skipped', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${CONSENT_INBOX_FILE_NAME}.draining`), '{"op":"deny","id":"old"}');
    writeFileSync(join(dir, CONSENT_INBOX_FILE_NAME), 'garbage\n{"op":"explode","id":"x"}\n{"op":"grant","id":"new"}\n');
    const bad: string[] = [];
    assert.deepEqual(await drainConsentInbox(dir, (_l, reason) => bad.push(reason)), [
      { op: 'deny', id: 'old' },
      { op: 'grant', id: 'new' },
    ]);
    assert.deepEqual(bad, ['not valid JSON', 'unknown op "explode"']);
    assert.equal(existsSync(join(dir, `${CONSENT_INBOX_FILE_NAME}.draining`)), false);
  });

  test('invalid commands are refused at append', async () => {
    await assert.rejects(appendConsentCommand(freshDir(), { op: 'grant' }), (e: unknown) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'));
    assert.equal(parseConsentCommand({ op: 'revoke', id: 'a', app: 'x' }), 'revoke takes either an id or app/action/pattern, not both');
    assert.equal(parseConsentCommand({ op: 'grant', id: 'a', app: 'x' }), 'grant takes an id only');
  });
});

describe('crossbus consent', () => {
  const NOW = 1_700_000_000_000;
  const STATE = {
    version: 1,
    pending: [
      {
        id: 'a1b2c3d4',
        app: 'billing',
        action: 'publish',
        pattern: 'orders.>',
        target: 'orders.eu.created',
        createdAt: NOW - 18_000,
        expiresAt: NOW + 42_000,
      },
    ],
    decisions: [
      {
        id: 'ffee0011',
        app: 'crm',
        action: 'subscribe',
        pattern: 'people.*',
        decision: 'granted',
        decidedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
        by: 'alice',
      },
    ],
  };
  function prepared(extra: Record<string, unknown> = {}): string {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, CONSENT_FILE_NAME), JSON.stringify({ ...STATE, ...extra }));
    return dir;
  }
  function io(kills: Array<[number, string]> = []) {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        stdout: (s: string) => out.push(s),
        stderr: (s: string) => err.push(s),
        now: () => NOW,
        kill: (pid: number, sig: string) => {
          kills.push([pid, sig]);
        },
      },
    };
  }

  test('list prints pending requests and decisions', async () => {
    const t = io();
    assert.equal(await consentCommand(['list', '--data', prepared()], t.io), 0);
    assert.equal(
      t.out.join(''),
      [
        'Pending consent requests (1):',
        '  ID        APP      ACTION   TARGET             PATTERN   EXPIRES IN',
        '  a1b2c3d4  billing  publish  orders.eu.created  orders.>  42s',
        'Decisions (1):',
        '  ID        APP  ACTION     PATTERN   DECISION  DECIDED AT                BY',
        '  ffee0011  crm  subscribe  people.*  granted   2024-01-02T03:04:05.000Z  alice',
        '',
      ].join('\n'),
    );
  });

  test('list --json, and an empty data dir', async () => {
    const t = io();
    assert.equal(await consentCommand(['list', '--json', '--data', prepared()], t.io), 0);
    assert.equal(JSON.parse(t.out.join('')).pending[0].id, 'a1b2c3d4');
    const e = io();
    assert.equal(await consentCommand(['list', '--data', freshDir()], e.io), 0);
    assert.equal(e.out.join(''), 'No pending consent requests.\nNo decisions.\n');
  });

  test('grant queues the command and signals the running hub', async () => {
    const dir = prepared();
    const kills: Array<[number, string]> = [];
    // Our own pid stands in for the hub: it is a live Node process; the injected kill records instead of signalling.
    writeFileSync(join(dir, 'hub.pid'), JSON.stringify({ pid: process.pid, url: 'ws://127.0.0.1:7070' }));
    const t = io(kills);
    assert.equal(await consentCommand(['grant', 'a1b2c3d4', '--data', dir, '--by', 'zoe'], t.io), 0);
    assert.deepEqual(kills, [[process.pid, 'SIGUSR2']]);
    assert.match(t.out.join(''), /sent to the hub/);
    assert.deepEqual(await drainConsentInbox(dir), [{ op: 'grant', id: 'a1b2c3d4', by: 'zoe' }]);
  });

  test('without a running hub the command is queued for the next start', async () => {
    const dir = prepared();
    const t = io();
    assert.equal(await consentCommand(['revoke', 'ffee0011', '--data', dir, '--by', 'zoe'], t.io), 0);
    assert.match(t.out.join(''), /queued: no hub is running/);
    writeFileSync(join(dir, 'hub.pid'), JSON.stringify({ pid: 0, url: 'x' }));
    const k: Array<[number, string]> = [];
    assert.equal(await consentCommand(['deny', 'a1b2c3d4', '--data', dir], io(k).io), 0);
    assert.deepEqual(k, [], 'pid 0 (a process group) is never signalled');
    assert.deepEqual(
      (await drainConsentInbox(dir)).map((c) => c.op),
      ['revoke', 'deny'],
    );
  });

  test('unknown, answered, pending-for-revoke and expired ids exit 1 and queue nothing', async () => {
    const expiredDir = prepared({ pending: [{ ...STATE.pending[0], expiresAt: NOW - 5000 }] });
    const dir = prepared();
    const cases: Array<[string[], RegExp]> = [
      [['grant', 'nope', '--data', dir], /no pending request with id "nope"/],
      [['grant', 'ffee0011', '--data', dir], /already answered \(granted\).*revoke/],
      [['revoke', 'a1b2c3d4', '--data', dir], /still pending.*deny/],
      [['revoke', 'nope', '--data', dir], /no decision with id "nope"/],
      [['deny', 'a1b2c3d4', '--data', expiredDir], /expired 5s ago/],
    ];
    for (const [args, re] of cases) {
      const t = io();
      assert.equal(await consentCommand(args, t.io), 1, args.join(' '));
      assert.match(t.err.join(''), re);
    }
    assert.equal(existsSync(join(dir, CONSENT_INBOX_FILE_NAME)), false);
  });

  test('usage errors exit 2', async () => {
    for (const args of [[], ['frob'], ['grant'], ['grant', 'a', 'b'], ['list', 'x'], ['grant', 'a', '--json'], ['list', '--bogus']]) {
      const t = io();
      assert.equal(await consentCommand(args, t.io), 2, args.join(' '));
      assert.match(t.err.join(''), /Usage:/);
    }
    const h = io();
    assert.equal(await consentCommand(['--help'], h.io), 0);
    const bad = prepared({ decisions: 'nope' });
    const t = io();
    assert.equal(await consentCommand(['list', '--data', bad], t.io), 2);
    assert.match(t.err.join(''), /cannot read consent state/);
  });
});
