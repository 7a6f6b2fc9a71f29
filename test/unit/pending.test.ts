import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PendingTable, TIMEOUT_GRANULARITY_MS } from '../../src/client/pending.js';
import { createError, type CrossbusError } from '../../src/core/errors/index.js';

const timeout = (label: string) => (): CrossbusError => createError('CB_ERR_TIMEOUT', label);
const settle = <T>(p: Promise<T>): Promise<{ at: number; value?: T; error?: CrossbusError }> =>
  p.then(
    (value) => ({ at: performance.now(), value }),
    (error: CrossbusError) => ({ at: performance.now(), error }),
  );

test('an entry times out with its own error, never early and at most a granularity late', async () => {
  const t = new PendingTable<string>();
  const t0 = performance.now();
  const r = await settle(t.add(1, 60, timeout('one')));
  assert.equal(r.error?.code, 'CB_ERR_TIMEOUT');
  assert.equal(r.error?.message, 'one');
  assert.ok(r.at - t0 >= 60, `timed out after ${r.at - t0} ms`);
  assert.ok(r.at - t0 < 60 + TIMEOUT_GRANULARITY_MS + 200, `timed out after ${r.at - t0} ms`);
  assert.equal(t.size, 0);
});

test('a shorter timeout added after a longer one still fires on time; the longer one later', async () => {
  const t = new PendingTable<string>();
  const t0 = performance.now();
  const long = settle(t.add(1, 400, timeout('long')));
  const short = settle(t.add(2, 50, timeout('short')));
  const s = await short;
  assert.equal(s.error?.message, 'short');
  assert.ok(s.at - t0 >= 50 && s.at - t0 < 300, `short after ${s.at - t0} ms`);
  assert.equal(t.size, 1);
  const l = await long;
  assert.equal(l.error?.message, 'long');
  assert.ok(l.at - t0 >= 400, `long after ${l.at - t0} ms`);
});

test('answered entries never time out, and a late answer finds nothing', async () => {
  const t = new PendingTable<string>();
  const answered = settle(t.add(1, 40, timeout('a')));
  assert.equal(t.resolve(1, 'yes'), true);
  const late = settle(t.add(2, 40, timeout('b')));
  assert.deepEqual((await answered).value, 'yes');
  assert.equal((await late).error?.message, 'b');
  assert.equal(t.resolve(2, 'too late'), false);
  assert.equal(t.reject(1, createError('CB_ERR_INTERNAL', 'x')), false);
});

test('many entries with staggered deadlines each settle once, in deadline order', async () => {
  const t = new PendingTable<number>();
  const order: number[] = [];
  const all = Array.from({ length: 200 }, (_, i) =>
    t.add(i + 1, 20 + (i % 10) * 15, timeout(String(i))).catch(() => {
      order.push(i);
    }),
  );
  for (let i = 0; i < 200; i += 3) t.resolve(i + 1, i);
  await Promise.all(all);
  assert.equal(order.length, 200 - 67);
  const deadlines = order.map((i) => 20 + (i % 10) * 15);
  // Entries whose deadlines are further apart than the granularity time out in order.
  for (let k = 1; k < deadlines.length; k++)
    assert.ok(deadlines[k]! >= deadlines[k - 1]! - TIMEOUT_GRANULARITY_MS, `order ${deadlines.join(',')}`);
  assert.equal(t.size, 0);
});

test('a timeout longer than setTimeout can wait (about 24.8 days) does not fire early', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const t = new PendingTable<number>();
    let settled = false;
    const p = t.add(1, 2 ** 40, timeout('far')).then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(settled, false);
    assert.equal(t.resolve(1, 1), true);
    await p;
    assert.deepEqual(
      warnings.filter((w) => w === 'TimeoutOverflowWarning'),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});

test('rejectAll settles everything at once', async () => {
  const t = new PendingTable<number>();
  const ps = [1, 2, 3].map((id) => settle(t.add(id, 10_000, timeout('t'))));
  t.rejectAll(createError('CB_ERR_CONNECTION_CLOSED', 'gone'));
  for (const r of await Promise.all(ps)) assert.equal(r.error?.code, 'CB_ERR_CONNECTION_CLOSED');
  assert.equal(t.size, 0);
});

test('an empty table does not keep a Node process alive; a waiting entry does', () => {
  const mod = fileURLToPath(new URL('../../src/client/pending.ts', import.meta.url));
  const run = (body: string) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { PendingTable } from ${JSON.stringify(mod)}; const t = new PendingTable(); ${body}`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
  const t0 = Date.now();
  const idle = run(`const p = t.add(1, 30000, () => new Error('t')); t.resolve(1, 'done'); await p; console.log('settled');`);
  assert.equal(idle.status, 0, idle.stderr);
  assert.match(idle.stdout, /settled/);
  assert.ok(Date.now() - t0 < 15_000, 'the process waited for the 30 s timer');
  const waiting = run(
    `const t1 = Date.now(); t.add(1, 300, () => new Error('t')).catch(() => console.log('timed out after', Date.now() - t1));`,
  );
  assert.equal(waiting.status, 0, waiting.stderr);
  assert.match(waiting.stdout, /timed out after \d+/);
});

test('entries that expire together (a late timer: a busy event loop) fail in deadline order', async () => {
  const t = new PendingTable<number>();
  const order: string[] = [];
  // Added longest first, so insertion order is the reverse of deadline order.
  const all = ['c', 'b', 'a'].map((label, i) =>
    t.add(i + 1, 60 - i * 20, timeout(label)).catch((e: CrossbusError) => void order.push(e.message)),
  );
  // Hold the event loop past every deadline: one timer run finds all three expired.
  const until = performance.now() + 120;
  while (performance.now() < until) {
    // busy on purpose
  }
  await Promise.all(all);
  assert.deepEqual(order, ['a', 'b', 'c']);
});
