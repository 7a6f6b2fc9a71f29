/**
 * The Logger interface has pino's call shape: a real pino logger passed to the hub and the client
 * keeps every field. And the CLI's logger options are checked in the CLI's words.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startHub } from '../../src/hub/index.js';
import { connect } from '../../src/node/index.js';
import { logOptions } from '../../src/cli/logger.js';
import { UsageError } from '../../src/cli/options.js';
import { until } from '../helpers/wait.js';

function memoryPino(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

describe('a pino logger passed as it is', () => {
  test('the hub and the client log through it with their fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossbus-log-'));
    const { logger, lines } = memoryPino();
    const hub = await startHub({ host: '127.0.0.1', port: 0, dataDir: dir, logger: logger.child({ service: 'edge' }) });
    try {
      const created = lines.find((l) => l.msg === 'created a hub config with fresh secrets');
      assert.ok(created, JSON.stringify(lines));
      assert.equal(created.path, hub.configPath);
      assert.deepEqual(created.apps, ['admin', 'app']);
      assert.equal(created.service, 'edge', 'a child logger keeps its bindings');
      assert.equal(created.component, 'security', 'each part of the hub names itself');
      // A client whose listener throws: the bus logs the error with its field.
      const admin = hub.config?.apps.get('admin');
      assert.ok(admin?.keys[0]);
      const bus = await connect(hub.url, {
        name: 'admin',
        secret: Buffer.from(admin.keys[0].secret).toString('base64'),
        logger: logger.child({ component: 'client' }),
        reconnect: false,
      });
      bus.on('connected', () => {
        throw new Error('listener failed');
      });
      bus.events.emit('connected', { attempt: 0 } as never);
      await until(() => lines.some((l) => l.component === 'client' && l.msg === 'bus event listener threw'));
      const threw = lines.find((l) => l.msg === 'bus event listener threw');
      assert.match(String(threw?.error), /listener failed/);
      await bus.close();
    } finally {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CLI log options', () => {
  test('levels and formats are checked, in the CLI words', () => {
    assert.deepEqual(logOptions(undefined, undefined), {});
    assert.deepEqual(logOptions('warn', 'pretty'), { level: 'warn', format: 'pretty' });
    assert.throws(
      () => logOptions('loud', undefined),
      (e: unknown) => e instanceof UsageError && /--log-level must be/.test(e.message),
    );
    assert.throws(
      () => logOptions(undefined, 'xml'),
      (e: unknown) => e instanceof UsageError && /--log-format must be json or pretty/.test(e.message),
    );
  });
});
