/**
 * A handshake timeout per listener: `Broker.accept(transport, { handshakeTimeoutMs })` bounds that
 * connection's handshake by its listener's value, the broker's own being the default; the value is
 * checked at its edges wherever it enters (accept, the config file's listeners). And the TLS
 * listeners' reload settings in the config file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { Kind } from '../../src/core/protocol/envelope.js';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { ConfigError } from '../../src/core/errors/index.js';
import { StallableTransport, tick } from '../helpers/recording-transport.js';

const SECRET = Buffer.alloc(32, 4).toString('base64');

function timeoutOf(t: StallableTransport): unknown {
  const error = t.received.find((e) => e.kind === Kind.ERROR);
  return error === undefined ? undefined : JSON.parse(new TextDecoder().decode(error.payload)).details?.timeoutMs;
}

describe('handshake timeout per listener', () => {
  test("each connection is bounded by its listener's timeout; without one, by the broker's", async (ctx) => {
    ctx.mock.timers.enable({ apis: ['setTimeout'] });
    const broker = new Broker({ heartbeatMs: 0, handshakeTimeoutMs: 50 });
    const short = new StallableTransport();
    const long = new StallableTransport();
    const plain = new StallableTransport();
    broker.accept(short, { handshakeTimeoutMs: 20 });
    broker.accept(long, Object.freeze({ handshakeTimeoutMs: 80 }));
    broker.accept(plain);
    ctx.mock.timers.tick(19);
    await tick();
    assert.equal(short.closed, undefined, 'not before its own bound');
    ctx.mock.timers.tick(1);
    await tick();
    assert.deepEqual(short.errors(), ['CB_ERR_HANDSHAKE_TIMEOUT']);
    assert.equal(timeoutOf(short), 20);
    assert.equal(plain.closed, undefined);
    ctx.mock.timers.tick(30);
    await tick();
    assert.deepEqual(plain.errors(), ['CB_ERR_HANDSHAKE_TIMEOUT']);
    assert.equal(timeoutOf(plain), 50);
    assert.equal(long.closed, undefined, "the broker's bound does not apply to a listener with its own");
    ctx.mock.timers.tick(30);
    await tick();
    assert.deepEqual(long.errors(), ['CB_ERR_HANDSHAKE_TIMEOUT']);
    assert.equal(timeoutOf(long), 80);
    ctx.mock.timers.reset();
    await broker.close(10);
  });

  test('accept() takes 1..3,600,000 ms and refuses anything else before touching the transport', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    for (const ok of [1, 3_600_000, undefined]) {
      const t = new StallableTransport();
      broker.accept(t, { handshakeTimeoutMs: ok });
      assert.ok(t.handlers !== undefined, `${ok} accepted`);
    }
    for (const bad of [0, 3_600_001, 1.5, -5, Number.NaN, '100' as unknown as number]) {
      const t = new StallableTransport();
      assert.throws(
        () => broker.accept(t, { handshakeTimeoutMs: bad }),
        (e: unknown) => e instanceof ConfigError && e.code === 'CB_ERR_INVALID_OPTION' && /handshakeTimeoutMs/.test(e.message),
        String(bad),
      );
      assert.equal(t.handlers, undefined, 'the transport is left as it was');
    }
    assert.equal(broker.stats().connections.length, 3);
    await broker.close(10);
  });

  test('the config file takes 100..3,600,000 ms per listener', () => {
    const parse = (handshakeTimeoutMs: unknown) =>
      parseHubConfig({ apps: { a: { secret: SECRET } }, listeners: [{ kind: 'tcp', host: '127.0.0.1', port: 0, handshakeTimeoutMs }] });
    for (const ok of [100, 3_600_000]) assert.equal((parse(ok).listeners[0] as { handshakeTimeoutMs?: number }).handshakeTimeoutMs, ok);
    for (const bad of [99, 3_600_001, 150.5, '200']) {
      assert.throws(
        () => parse(bad),
        (e: unknown) =>
          e instanceof ConfigError &&
          ((e.details?.problems ?? []) as Array<{ path: string }>).some((p) => p.path === 'listeners[0].handshakeTimeoutMs'),
        String(bad),
      );
    }
  });
});

describe('TLS reload settings in the config file', () => {
  test('reloadDebounceMs takes 0..600,000 ms; watchFiles is true or false, true when left out', () => {
    const parse = (extra: Record<string, unknown>) =>
      parseHubConfig({
        apps: { a: { secret: SECRET } },
        listeners: [{ kind: 'tls', host: '127.0.0.1', port: 0, certFile: 'c', keyFile: 'k', ...extra }],
      });
    assert.equal((parse({}).listeners[0] as { watchFiles?: boolean }).watchFiles, true);
    assert.equal((parse({ watchFiles: false }).listeners[0] as { watchFiles?: boolean }).watchFiles, false);
    for (const ok of [0, 600_000])
      assert.equal((parse({ reloadDebounceMs: ok }).listeners[0] as { reloadDebounceMs?: number }).reloadDebounceMs, ok);
    for (const bad of [{ reloadDebounceMs: -1 }, { reloadDebounceMs: 600_001 }, { reloadDebounceMs: 1.5 }, { watchFiles: 'yes' }]) {
      assert.throws(() => parse(bad), ConfigError, JSON.stringify(bad));
    }
  });
});
