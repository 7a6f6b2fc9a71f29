import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, GENESIS_HASH, entryHash, type AuditEntry } from '../../src/node/audit/audit-log.js';
import { verifyAuditLog } from '../../src/node/audit/verify.js';
import { auditCommand } from '../../src/cli/commands/audit.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import type { AuditEvent } from '../../src/core/security/audit.js';
import type { Logger } from '../../src/core/util/logger.js';
import { until } from '../helpers/wait.js';

let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'crossbus-audit-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
/** A fresh path in a directory that does not exist yet (open must create it). */
const fresh = (): string => join(root, `d${++n}`, 'sub', 'audit.jsonl');

const ev = (i: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  actor: { app: `app${i}`, address: '127.0.0.1:5000', connectionId: `c${i}` },
  action: 'publish',
  target: `orders.${i}`,
  outcome: 'success',
  ...extra,
});
const lines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const writeLines = (file: string, ls: string[]): void => writeFileSync(file, ls.map((l) => `${l}\n`).join(''));

async function logWith(count: number): Promise<string> {
  const file = fresh();
  const log = await AuditLog.open({ file });
  for (let i = 1; i <= count; i++) log.record(ev(i));
  await log.close();
  return file;
}

function capture(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const noop = (): void => {};
  return {
    errors,
    logger: {
      debug: noop,
      info: noop,
      warn: noop,
      error: (...args: [string] | [Record<string, unknown>, string]) => errors.push(args[args.length - 1] as string),
    },
  };
}

describe('AuditLog writing', () => {
  test('creates the file (0600) and its directory; entries have the fixed key order and a valid hash', async () => {
    const file = fresh();
    const log = await AuditLog.open({ file, now: () => Date.UTC(2030, 0, 2, 3, 4, 5) });
    log.record(ev(1, { reason: 'ok', details: { bytes: 12 } }));
    log.record({ actor: {}, action: 'auth', outcome: 'failure' });
    assert.equal(log.lastSeq, 2);
    await log.close();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [a, b] = lines(file).map((l) => JSON.parse(l) as AuditEntry);
    assert.deepEqual(Object.keys(a!), ['seq', 'time', 'actor', 'action', 'target', 'outcome', 'reason', 'details', 'prev', 'hash']);
    assert.deepEqual(Object.keys(b!), ['seq', 'time', 'actor', 'action', 'target', 'outcome', 'reason', 'prev', 'hash']);
    assert.equal(a!.time, '2030-01-02T03:04:05.000Z');
    assert.equal(a!.prev, GENESIS_HASH);
    assert.equal(b!.prev, a!.hash);
    assert.equal(b!.target, null);
    assert.equal(b!.reason, null);
    const { hash, ...rest } = a!;
    assert.equal(entryHash(rest), hash);
    assert.equal(log.lastHash, b!.hash);
  });

  test('the chain continues across close and reopen', async () => {
    const file = await logWith(3);
    const log = await AuditLog.open({ file });
    assert.equal(log.lastSeq, 3);
    log.record(ev(4));
    log.record(ev(5));
    await log.close();
    const entries = lines(file).map((l) => JSON.parse(l) as AuditEntry);
    assert.deepEqual(
      entries.map((e) => e.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(entries[3]!.prev, entries[2]!.hash);
    assert.deepEqual(await verifyAuditLog(file), { ok: true, entries: 5, lastHash: entries[4]!.hash });
  });

  test('after a torn last line, reopening starts a new line and continues from the last valid entry', async () => {
    const file = await logWith(3);
    appendFileSync(file, '{"seq":4,"time":"20');
    const log = await AuditLog.open({ file });
    assert.equal(log.lastSeq, 3);
    log.record(ev(4));
    await log.close();
    const ls = lines(file);
    assert.equal(ls.length, 5);
    assert.equal(ls[3], '{"seq":4,"time":"20');
    assert.equal((JSON.parse(ls[4]!) as AuditEntry).seq, 4);
    const r = await verifyAuditLog(file);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.brokenAt, 4);
  });

  test('secrets are redacted at any depth and never reach the file', async () => {
    const file = fresh();
    const log = await AuditLog.open({ file });
    log.record({
      actor: { app: 'a', apiSecret: 'SECRET-ACTOR-1' } as AuditEvent['actor'],
      action: 'auth',
      outcome: 'failure',
      details: {
        token: 'SECRET-TOK-2',
        nested: { Password: 'SECRET-PW-3', keep: 'visible' },
        list: [{ privateKey: 'SECRET-PK-4' }],
        pskBinder: 'SECRET-B-5',
        proof: 'SECRET-P-6',
        passphrase: 'SECRET-PP-7',
      },
    });
    await log.close();
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /SECRET-/);
    const e = JSON.parse(lines(file)[0]!) as AuditEntry;
    assert.deepEqual(e.actor, { app: 'a' });
    assert.deepEqual(e.details, {
      token: '[redacted]',
      nested: { Password: '[redacted]', keep: 'visible' },
      list: [{ privateKey: '[redacted]' }],
      pskBinder: '[redacted]',
      proof: '[redacted]',
      passphrase: '[redacted]',
    });
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  test('odd details (circular, bigint) and calls after close never throw', async () => {
    const file = fresh();
    const { logger, errors } = capture();
    const log = await AuditLog.open({ file, logger });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.record(ev(1, { details: circular }));
    log.record(ev(2, { details: { big: 10n } }));
    await log.close();
    assert.doesNotThrow(() => log.record(ev(3)));
    assert.equal(errors.length, 1, 'record after close is reported');
    assert.equal((await verifyAuditLog(file)).ok, true);
    assert.equal((JSON.parse(lines(file)[1]!) as AuditEntry).details?.big, '10');
  });

  test('a write failure (ENOSPC on /dev/full) is reported once through logger and onError, counted, and never thrown', {
    skip: !existsSync('/dev/full'),
  }, async () => {
    const { logger, errors } = capture();
    const reported: Error[] = [];
    const log = await AuditLog.open({ file: '/dev/full', logger, onError: (e) => reported.push(e) });
    for (let i = 1; i <= 3; i++) assert.doesNotThrow(() => log.record(ev(i)));
    assert.equal(log.failures, 3);
    assert.equal(log.lastSeq, 0);
    assert.equal(reported.length, 1);
    assert.ok(reported[0] instanceof CrossbusError);
    assert.equal((reported[0] as CrossbusError).code, 'CB_ERR_AUDIT');
    assert.equal((reported[0] as CrossbusError).details?.code, 'ENOSPC');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^AUDIT LOG WRITE FAILED/);
    await log.close();
  });

  test('a removed log file is reported and writing continues in a new file', async () => {
    const file = fresh();
    const reported: Error[] = [];
    const log = await AuditLog.open({ file, onError: (e) => reported.push(e) });
    log.record(ev(1));
    rmSync(join(file, '..', '..'), { recursive: true });
    log.record(ev(2));
    await log.close();
    assert.equal(reported.length, 1);
    assert.deepEqual(
      lines(file).map((l) => (JSON.parse(l) as AuditEntry).seq),
      [2],
    );
    const r = await verifyAuditLog(file);
    assert.ok(!r.ok && r.brokenAt === 1, 'a log that does not start at seq 1 is not intact');
  });

  test('after failures, the next successful write first records a gap entry with the number lost', async () => {
    const file = fresh();
    const dir = join(file, '..');
    const reported: Error[] = [];
    const log = await AuditLog.open({ file, onError: (e) => reported.push(e) });
    log.record(ev(1));
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory'); // reopening now fails
    log.record(ev(2));
    assert.equal(log.lastSeq, 1);
    rmSync(dir);
    log.record(ev(3));
    await log.close();
    assert.ok(reported.length >= 1);
    const entries = lines(file).map((l) => JSON.parse(l) as AuditEntry);
    assert.deepEqual(
      entries.map((e) => [e.seq, e.action]),
      [
        [2, 'audit'],
        [3, 'publish'],
      ],
    );
    assert.equal(entries[0]!.details?.lost, 1);
    assert.equal(entries[1]!.target, 'orders.3');
  });

  test('reopening finds the chain end across read-chunk boundaries (large entries)', async () => {
    const file = fresh();
    const log = await AuditLog.open({ file });
    log.record(ev(1, { details: { blob: 'x'.repeat(150_000) } }));
    log.record(ev(2, { details: { blob: 'y'.repeat(70_000) } }));
    await log.close();
    const again = await AuditLog.open({ file });
    assert.equal(again.lastSeq, 2);
    again.record(ev(3));
    await again.close();
    assert.equal((await verifyAuditLog(file)).ok, true);
    const a = { out: [] as string[] };
    assert.equal(await auditCommand(['tail', '-n', '2', '--file', file], { stdout: (s) => a.out.push(s), stderr: () => {} }), 0);
    assert.deepEqual(
      a.out.map((l) => (JSON.parse(l) as AuditEntry).seq),
      [2, 3],
    );
  });
});

describe('AuditLog coalescing', () => {
  const limited = (app: string): AuditEvent => ({
    actor: { app },
    action: 'rate-limit',
    outcome: 'denied',
    reason: 'CB_ERR_RATE_LIMITED',
    details: { topic: 't' },
  });

  test('a flood within the window is one entry now and one summary with details.count', async () => {
    const file = fresh();
    let t = 1_000_000;
    const log = await AuditLog.open({ file, now: () => t });
    for (let i = 0; i < 5; i++) log.record(limited('a'));
    log.record(limited('b'));
    log.record(ev(1)); // other actions are never merged
    log.record(ev(1));
    assert.equal(lines(file).length, 4);
    t += 500;
    log.flush();
    const entries = lines(file).map((l) => JSON.parse(l) as AuditEntry);
    assert.equal(entries.length, 5);
    assert.equal(entries[4]!.action, 'rate-limit');
    assert.deepEqual(entries[4]!.actor, { app: 'a' });
    assert.equal(entries[4]!.details?.count, 4);
    assert.equal(entries[4]!.details?.topic, 't');
    await log.close();
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  test('an expired window is summarised when the next event arrives; close() writes pending summaries', async () => {
    const file = fresh();
    let t = 0;
    const log = await AuditLog.open({ file, now: () => t, coalesceWindowMs: 1000 });
    log.record(limited('a'));
    log.record(limited('a'));
    log.record(limited('a'));
    t = 1000;
    log.record(limited('a')); // ends the first window (summary count 2), written itself, opens a new one
    log.record(limited('a'));
    assert.deepEqual(
      lines(file).map((l) => (JSON.parse(l) as AuditEntry).details?.count),
      [undefined, 2, undefined],
    );
    await log.close();
    assert.deepEqual(
      lines(file).map((l) => (JSON.parse(l) as AuditEntry).details?.count),
      [undefined, 2, undefined, 1],
    );
  });

  test('the window timer writes the summary on its own', async () => {
    const file = fresh();
    const log = await AuditLog.open({ file, coalesceWindowMs: 20 });
    log.record(limited('a'));
    log.record(limited('a'));
    // A real wait for the timer: the log takes setTimeout from node:timers, which mock.timers leaves alone.
    await until(() => lines(file).length >= 2, 2_000, 'the summary');
    assert.equal(lines(file).length, 2);
    await log.close();
  });

  test('coalesceActions is configurable', async () => {
    const file = fresh();
    const log = await AuditLog.open({ file, coalesceActions: ['abuse'] });
    log.record(limited('a'));
    log.record(limited('a'));
    log.record({ actor: { app: 'x' }, action: 'abuse', outcome: 'denied' });
    log.record({ actor: { app: 'x' }, action: 'abuse', outcome: 'denied' });
    assert.equal(lines(file).length, 3);
    await log.close();
    assert.equal(lines(file).length, 4);
  });
});

describe('verifyAuditLog', () => {
  test('an empty log is intact', async () => {
    const file = fresh();
    await (await AuditLog.open({ file })).close();
    assert.deepEqual(await verifyAuditLog(file), { ok: true, entries: 0, lastHash: GENESIS_HASH });
  });

  test('editing a field of entry k breaks at line k', async () => {
    const file = await logWith(5);
    const ls = lines(file);
    ls[2] = ls[2]!.replace('"outcome":"success"', '"outcome":"failure"');
    writeLines(file, ls);
    assert.deepEqual(await verifyAuditLog(file), {
      ok: false,
      entries: 2,
      brokenAt: 3,
      seq: 3,
      reason: "hash does not match the entry's content",
    });
  });

  test('editing an entry and re-hashing it moves the break to the next line', async () => {
    const file = await logWith(5);
    const ls = lines(file);
    const e = JSON.parse(ls[1]!) as AuditEntry;
    const { hash: _old, ...rest } = { ...e, target: 'forged' };
    ls[1] = JSON.stringify({ ...rest, hash: entryHash(rest) });
    writeLines(file, ls);
    const r = await verifyAuditLog(file);
    assert.ok(!r.ok);
    assert.equal(r.brokenAt, 3);
    assert.match(r.reason, /prev/);
  });

  test('deleting a middle line breaks at the line that followed it', async () => {
    const file = await logWith(5);
    const ls = lines(file);
    ls.splice(2, 1);
    writeLines(file, ls);
    const r = await verifyAuditLog(file);
    assert.ok(!r.ok);
    assert.equal(r.brokenAt, 3);
    assert.equal(r.seq, 4);
  });

  test('swapping two lines is detected', async () => {
    const file = await logWith(5);
    const ls = lines(file);
    [ls[1], ls[2]] = [ls[2]!, ls[1]!];
    writeLines(file, ls);
    const r = await verifyAuditLog(file);
    assert.ok(!r.ok);
    assert.equal(r.brokenAt, 2);
  });

  test('an inserted (duplicated) line is detected', async () => {
    const file = await logWith(4);
    const ls = lines(file);
    ls.splice(2, 0, ls[1]!);
    writeLines(file, ls);
    const r = await verifyAuditLog(file);
    assert.ok(!r.ok);
    assert.equal(r.brokenAt, 3);
  });

  test('truncating the last line halfway is detected', async () => {
    const file = await logWith(4);
    const size = statSync(file).size;
    const lastLen = lines(file)[3]!.length + 1;
    truncateSync(file, size - Math.floor(lastLen / 2));
    const r = await verifyAuditLog(file);
    assert.ok(!r.ok);
    assert.equal(r.brokenAt, 4);
    assert.equal(r.entries, 3);
  });

  test('re-formatted but equivalent JSON is still a modification', async () => {
    const file = await logWith(2);
    const ls = lines(file);
    ls[1] = ls[1]!.replace('"seq":2,', '"seq": 2,');
    writeLines(file, ls);
    const r = await verifyAuditLog(file);
    assert.ok(!r.ok && r.brokenAt === 2);
  });

  test('a missing file throws CB_ERR_AUDIT', async () => {
    await assert.rejects(verifyAuditLog(join(root, 'nope.jsonl')), (e: unknown) => e instanceof CrossbusError && e.code === 'CB_ERR_AUDIT');
  });
});

describe('crossbus audit', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) } };
  };

  test('verify: intact → 0, broken → 1, missing → 2', async () => {
    const file = await logWith(3);
    const a = io();
    assert.equal(await auditCommand(['verify', '--file', file], a.io), 0);
    assert.match(a.out.join(''), /^audit log intact: 3 entries, last hash [0-9a-f]{64}\n$/);

    const ls = lines(file);
    ls.splice(1, 1);
    writeLines(file, ls);
    const b = io();
    assert.equal(await auditCommand(['verify', '--file', file], b.io), 1);
    assert.match(b.err.join(''), /^audit log BROKEN at line 2 \(seq 3\): /);

    const c = io();
    assert.equal(await auditCommand(['verify', '--data', join(root, 'none')], c.io), 2);
    assert.match(c.err.join(''), /no audit log at .*none.audit\.jsonl/);
  });

  test('tail -n prints the last entries in order; --data finds <dir>/audit.jsonl', async () => {
    const file = await logWith(5);
    const a = io();
    assert.equal(await auditCommand(['tail', '-n', '2', '--data', join(file, '..')], a.io), 0);
    assert.deepEqual(
      a.out.map((l) => (JSON.parse(l) as AuditEntry).seq),
      [4, 5],
    );
    const b = io();
    assert.equal(await auditCommand(['tail', '--file', file], b.io), 0);
    assert.equal(b.out.length, 5);
  });

  test('usage errors → 2', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['verify', '--bogus'],
      ['verify', '-n', '3'],
      ['tail', '-n', '0', '--file', await logWith(1)],
    ]) {
      const a = io();
      assert.equal(await auditCommand(args, a.io), 2, args.join(' '));
    }
    const h = io();
    assert.equal(await auditCommand(['--help'], h.io), 0);
    assert.match(h.out.join(''), /crossbus audit verify/);
  });
});
