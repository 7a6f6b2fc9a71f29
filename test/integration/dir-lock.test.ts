/**
 * File locks of the data folder (src/node/dir-lock.ts) between REAL processes: a live holder
 * refuses others with CB_ERR_DATA_DIR_LOCKED naming the folder and pid; a holder killed with
 * SIGKILL does not block the next taker; a reused pid does not look like the old holder; several
 * processes racing for one stale lock leave exactly one winner; a waiter gets the lock when it is
 * released; two concurrent key rotations both land.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireFileLock } from '../../src/node/dir-lock.js';
import { loadConfigFile, rotateKey } from '../../src/node/config/config-file.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import { testConfigDocument } from '../helpers/security.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { runCli, startHubProcess } from '../helpers/hub-process.js';
import { closeBus, openBus } from '../helpers/buses.js';

const HOLDER = fileURLToPath(new URL('../fixtures/lock-holder.ts', import.meta.url));
const T = { timeout: 30_000 };
const dirs: string[] = [];
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'crossbus-lock-'));
  dirs.push(d);
  return d;
}

interface HolderReport {
  ok?: boolean;
  waiting?: boolean;
  for?: number;
  pid?: number;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
}

/** Starts a lock-holder process; resolves with its report once it printed it. */
function holder(file: string, waitMs = 0): { proc: ChildProcess; report: Promise<HolderReport>; waiting: Promise<HolderReport> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', HOLDER, file, String(waitMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let onWaiting: (r: HolderReport) => void = () => {};
  const waiting = new Promise<HolderReport>((resolve) => (onWaiting = resolve));
  const report = new Promise<HolderReport>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const r = JSON.parse(out.slice(0, nl)) as HolderReport;
        out = out.slice(nl + 1);
        if (r.waiting) onWaiting(r);
        else resolve(r);
      }
    });
    proc.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before reporting`)));
  });
  return { proc, report, waiting };
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));
}

describe('file locks between processes', () => {
  test('a live holder refuses another process with the folder and its pid', T, async () => {
    const file = join(tempDir(), 'hub.lock');
    const first = holder(file);
    const held = await first.report;
    assert.equal(held.ok, true);
    const err = await rejectsWithCode(acquireFileLock(file), 'CB_ERR_DATA_DIR_LOCKED');
    assert.ok(err instanceof CrossbusError);
    assert.match(err.message, new RegExp(`pid ${held.pid}`));
    assert.ok(err.message.includes(join(file, '..')), err.message);
    assert.equal(err.details?.pid, held.pid);
    // A second process is refused the same way.
    const second = await holder(file).report;
    assert.equal(second.ok, false);
    assert.equal(second.code, 'CB_ERR_DATA_DIR_LOCKED');
    assert.equal(second.details?.pid, held.pid);
    first.proc.stdin?.end();
    await exited(first.proc);
    assert.equal(existsSync(file), false, 'a released lock is removed');
  });

  test('a holder killed with SIGKILL does not block the next taker', T, async () => {
    const file = join(tempDir(), 'hub.lock');
    const first = holder(file);
    assert.equal((await first.report).ok, true);
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    assert.ok(existsSync(file), 'SIGKILL leaves the lock file behind');
    const lock = await acquireFileLock(file);
    assert.equal(lock.holder.pid, process.pid);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { token: string }).token, lock.holder.token);
    await lock.release();
  });

  test('the same process may not take a lock it holds (two hubs in one process)', T, async () => {
    const file = join(tempDir(), 'hub.lock');
    const lock = await acquireFileLock(file);
    await rejectsWithCode(acquireFileLock(file), 'CB_ERR_DATA_DIR_LOCKED');
    await lock.release();
    await lock.release(); // idempotent
    (await acquireFileLock(file)).release();
  });

  test('a reused pid with another start time, or a damaged lock file, is stale', { ...T, skip: process.platform !== 'linux' }, async () => {
    const file = join(tempDir(), 'hub.lock');
    // Our own pid, as a container restarting its hub under the same pid would see it.
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), started: '1', token: 'old', purpose: 'hub', acquiredAt: '' }));
    const a = await acquireFileLock(file);
    assert.notEqual(a.holder.token, 'old');
    await a.release();
    writeFileSync(file, '{"pid": 12');
    const b = await acquireFileLock(file);
    await b.release();
  });

  test('a holder on another host always counts as alive', T, async () => {
    const file = join(tempDir(), 'hub.lock');
    writeFileSync(file, JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, token: 't', purpose: 'hub', acquiredAt: '' }));
    const err = await rejectsWithCode(acquireFileLock(file), 'CB_ERR_DATA_DIR_LOCKED');
    assert.match(err.message, /on host .*-elsewhere/);
  });

  test('processes racing for one stale lock leave exactly one winner', T, async () => {
    const file = join(tempDir(), 'hub.lock');
    const dead = holder(file);
    assert.equal((await dead.report).ok, true);
    dead.proc.kill('SIGKILL');
    await exited(dead.proc);
    const racers = Array.from({ length: 6 }, () => holder(file));
    const reports = await Promise.all(racers.map((r) => r.report));
    const winners = reports.filter((r) => r.ok);
    assert.equal(winners.length, 1, JSON.stringify(reports));
    for (const r of reports.filter((x) => !x.ok)) assert.equal(r.code, 'CB_ERR_DATA_DIR_LOCKED');
    for (const r of racers) r.proc.stdin?.end();
    await Promise.all(racers.map((r) => exited(r.proc)));
  });

  test('a waiter gets the lock once the holder releases it; waitMs is checked', T, async () => {
    const file = join(tempDir(), 'hub.lock');
    const lock = await acquireFileLock(file);
    const waiter = holder(file, 20_000);
    assert.equal((await waiter.waiting).for, process.pid);
    // It waits rather than taking over: the lock is still ours.
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { token: string }).token, lock.holder.token);
    await lock.release();
    assert.equal((await waiter.report).ok, true);
    waiter.proc.stdin?.end();
    await exited(waiter.proc);
    await rejectsWithCode(acquireFileLock(file, { waitMs: -1 }), 'CB_ERR_INVALID_OPTION');
  });

  test('two key rotations at once both land', T, async () => {
    const dir = tempDir();
    const path = join(dir, 'crossbus.config.json');
    writeFileSync(path, JSON.stringify(testConfigDocument(), null, 2), { mode: 0o600 });
    const before = (await loadConfigFile(path)).apps.get('orders')?.keys.length ?? 0;
    const [a, b] = await Promise.all([rotateKey(path, 'orders'), rotateKey(path, 'orders')]);
    assert.notEqual(a.keyId, b.keyId);
    const keys = (await loadConfigFile(path)).apps.get('orders')?.keys.map((k) => k.id) ?? [];
    assert.equal(keys.length, before + 2);
    assert.ok(keys.includes(a.keyId) && keys.includes(b.keyId));
    assert.equal(existsSync(`${path}.lock`), false);
  });
});

describe('one hub per data folder (real hub processes)', () => {
  test('a second hub is refused, the first keeps its pid file and audit chain; a SIGKILLed hub does not block the next', T, async () => {
    const first = await startHubProcess();
    const dataDir = first.dataDir;
    const pidFile = join(dataDir, 'hub.pid');
    const pidBefore = readFileSync(pidFile, 'utf8');

    const second = await runCli(['hub', '--host', '127.0.0.1', '--port', '0', '--data', dataDir]);
    assert.equal(second.code, 1, second.stderr);
    assert.ok(second.stderr.includes(dataDir), second.stderr);
    assert.match(second.stderr, new RegExp(`pid ${first.proc.pid}\\b`));
    assert.match(second.stderr, /CB_ERR_DATA_DIR_LOCKED/);
    assert.doesNotMatch(second.stdout, /listening/);
    assert.equal(readFileSync(pidFile, 'utf8'), pidBefore, "the refused hub leaves the first one's pid file alone");
    const reload = await runCli(['reload', '--data', dataDir]);
    assert.equal(reload.code, 0, reload.stderr);

    const bus = await openBus(first.url);
    await bus.publish('orders.created', { n: 1 });
    await bus.flush();
    await closeBus(bus);
    const verified = await runCli(['audit', 'verify', '--data', dataDir]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    first.kill();
    await first.exited;
    const third = await startHubProcess(['--data', dataDir]);
    const bus3 = await openBus(third.url, { ...first.credentials });
    await bus3.publish('orders.created', { n: 2 });
    await bus3.flush();
    await closeBus(bus3);
    await third.stop();
    assert.equal(existsSync(join(dataDir, 'hub.lock')), false, 'a hub that stops releases its lock');
    const again = await runCli(['audit', 'verify', '--data', dataDir]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });
});
