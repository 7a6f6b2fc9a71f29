/**
 * The LogEntry every hub and CLI line is (seed 002 §6.4): fields split into component,
 * correlationId, context and stackTrace; secrets redacted at any depth; components named by the
 * hub's parts without repeating a key.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COMPONENT, MAX_CONTEXT_DEPTH, REDACTED, toLogEntry } from '../../src/cli/log-entry.js';
import { silentLogger, type Logger } from '../../src/core/util/logger.js';
import { componentLogger, logCritical } from '../../src/core/util/component-logger.js';
import { correlationIdOf, MAX_CORRELATION_ID_LENGTH, traceIdOf } from '../../src/core/util/correlation.js';

function recording(withCritical: boolean): { logger: Logger; calls: Array<[string, Record<string, unknown>, string]> } {
  const calls: Array<[string, Record<string, unknown>, string]> = [];
  const at =
    (level: string) =>
    (a: Record<string, unknown> | string, m?: string): void => {
      calls.push(typeof a === 'string' ? [level, {}, a] : [level, a, m ?? '']);
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  if (withCritical) logger.critical = at('critical');
  return { logger, calls };
}

describe('LogEntry', () => {
  test('fields become component, correlationId and context; an error keeps its stack', () => {
    const err = new Error('disk full');
    const e = toLogEntry({ component: 'streams', correlationId: 'c-9', stream: 'ORDERS', error: err });
    assert.equal(e.component, 'streams');
    assert.equal(e.correlationId, 'c-9');
    assert.deepEqual(e.context, { stream: 'ORDERS', error: 'disk full' });
    assert.equal(e.stackTrace, err.stack);
    assert.deepEqual(toLogEntry({}), { component: DEFAULT_COMPONENT, correlationId: '', context: {} });
    assert.deepEqual(toLogEntry({ error: 'just text' }).context, { error: 'just text' });
  });

  test('secrets are redacted wherever they sit; caller objects are not changed', () => {
    const fields = {
      secret: 's3cr3t',
      app: { name: 'orders', apiKey: 'k', keys: [{ token: 't', id: 'k1' }] },
      headers: { authorization: 'Bearer x', cookie: 'sid=1', 'x-ok': 'fine' },
      password: 'pw',
      key: 'raw',
      keyId: 'k-1',
    };
    const copy = structuredClone(fields);
    const e = toLogEntry(fields);
    assert.deepEqual(e.context, {
      secret: REDACTED,
      app: { name: 'orders', apiKey: REDACTED, keys: [{ token: REDACTED, id: 'k1' }] },
      headers: { authorization: REDACTED, cookie: REDACTED, 'x-ok': 'fine' },
      password: REDACTED,
      key: REDACTED,
      keyId: 'k-1',
    });
    assert.deepEqual(fields, copy);
  });

  test('context is bounded in depth and bytes are summarized', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < MAX_CONTEXT_DEPTH + 2; i++) deep = { d: deep };
    const e = toLogEntry({ deep, bytes: new Uint8Array(9) });
    let at: unknown = e.context.deep;
    for (let i = 1; i < MAX_CONTEXT_DEPTH; i++) at = (at as { d: unknown }).d;
    assert.equal(at, '[object]');
    assert.equal(e.context.bytes, '[9 bytes]');
  });
});

describe('component loggers', () => {
  test('every entry names the component; the innermost name wins; fields are kept', () => {
    const { logger, calls } = recording(true);
    const hub = componentLogger(logger, 'hub');
    const broker = componentLogger(hub, 'broker');
    broker.warn({ topic: 'x' }, 'slow');
    hub.info('up');
    logCritical(broker, { file: 'a' }, 'audit down');
    assert.deepEqual(calls, [
      ['warn', { component: 'broker', topic: 'x' }, 'slow'],
      ['info', { component: 'hub' }, 'up'],
      ['critical', { component: 'broker', file: 'a' }, 'audit down'],
    ]);
  });

  test('critical falls back to error on a logger without it; the silent logger stays silent', () => {
    const { logger, calls } = recording(false);
    logCritical(componentLogger(logger, 'hub'), {}, 'down');
    assert.deepEqual(calls, [['error', { component: 'hub' }, 'down']]);
    assert.equal(componentLogger(silentLogger, 'x'), silentLogger);
  });
});

describe('correlation ids', () => {
  test('the header first, else the trace id of a well-formed traceparent, else empty', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.equal(correlationIdOf({ 'correlation-id': 'order-1', traceparent: tp }), 'order-1');
    assert.equal(correlationIdOf({ traceparent: tp }), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(correlationIdOf({}), '');
    assert.equal(correlationIdOf(undefined), '');
    assert.equal(correlationIdOf({ 'correlation-id': 'x'.repeat(MAX_CORRELATION_ID_LENGTH + 50) }).length, MAX_CORRELATION_ID_LENGTH);
    for (const bad of [
      '',
      'garbage',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'A'.repeat(32)}-${'b'.repeat(16)}-01`,
    ]) {
      assert.equal(traceIdOf(bad), '', bad);
    }
  });
});
