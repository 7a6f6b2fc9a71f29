/**
 * Listeners from the hub config file (`listeners`): checked with paths like every setting, opened
 * at start beside the WebSocket one, relative paths taken from the config file's folder.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { ConfigError } from '../../src/core/errors/index.js';
import { startHub } from '../../src/hub/index.js';
import { connect } from '../../src/node/index.js';

const SECRET = Buffer.alloc(32, 4).toString('base64');

describe('config listeners', () => {
  test('each kind is checked with its own settings; every problem is named with its path', () => {
    const ok = parseHubConfig({
      apps: { a: { secret: SECRET } },
      listeners: [
        { kind: 'tcp', host: '127.0.0.1', port: 0, maxConnections: 10 },
        { kind: 'unix', path: 'hub.sock' },
        { kind: 'tls', host: '127.0.0.1', port: 0, certFile: 'c.pem', keyFile: 'k.pem' },
      ],
    });
    assert.deepEqual(
      ok.listeners.map((l) => l.kind),
      ['tcp', 'unix', 'tls'],
    );
    assert.throws(
      () =>
        parseHubConfig({
          apps: { a: { secret: SECRET } },
          listeners: [
            { kind: 'udp', port: 1 },
            { kind: 'tcp', host: 'h', port: 70000 },
            { kind: 'tls', host: 'h', port: 1, certFile: 'c' },
            { kind: 'unix', path: 'p', extra: 1 },
          ],
        }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const paths = ((e.details?.problems ?? []) as Array<{ path: string; message: string }>).map((p) => `${p.path}: ${p.message}`);
        assert.match(paths[0] ?? '', /^listeners\[0\]: must be a listener with kind "tcp", "unix" or "tls", got kind "udp"/);
        assert.ok(
          paths.some((p) => p.startsWith('listeners[1].port: must be an integer from 0 to 65535')),
          paths.join('\n'),
        );
        assert.ok(
          paths.some((p) => p.startsWith('listeners[2].keyFile: must be a string')),
          paths.join('\n'),
        );
        assert.ok(
          paths.some((p) => p.startsWith('listeners[3].extra: is not a known setting')),
          paths.join('\n'),
        );
        return true;
      },
    );
  });

  test('a hub opens the listeners of its config file; clients reach it over tcp:// and unix://', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossbus-cfg-listen-'));
    const configFile = join(dir, 'hub.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        apps: { a: { secret: SECRET, roles: ['all'] } },
        roles: { all: { publish: ['>'], subscribe: ['>'] } },
        listeners: [
          { kind: 'tcp', host: '127.0.0.1', port: 0 },
          { kind: 'unix', path: 'hub.sock' },
        ],
      }),
      { mode: 0o600 },
    );
    const hub = await startHub({ host: '127.0.0.1', port: 0, configFile });
    try {
      const tcp = hub.urls.find((u) => u.startsWith('tcp://'));
      const unix = hub.urls.find((u) => u.startsWith('unix://'));
      assert.ok(tcp !== undefined && unix !== undefined, hub.urls.join(', '));
      assert.equal(unix, `unix://${join(dir, 'hub.sock')}`, 'a relative path is taken from the config file');
      for (const url of [tcp, unix]) {
        const bus = await connect(url, { name: 'a', secret: SECRET, reconnect: false });
        const sub = bus.subscribe('x.>');
        const got = (async () => {
          for await (const m of sub) return m.data;
          return undefined;
        })();
        await bus.publish('x.y', { via: url });
        assert.deepEqual(await got, { via: url });
        await bus.close();
      }
    } finally {
      await hub.close();
    }
  });
});
