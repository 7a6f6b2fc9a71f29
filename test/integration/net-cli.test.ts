/**
 * `crossbus hub --tcp --unix --tls`: a real hub process prints one listening line per listener
 * (the WebSocket's first), and a client reaches it over each; the TLS flags are checked.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../src/node/index.js';
import { runCli, startHubProcess } from '../helpers/hub-process.js';
import { makeCertificates } from '../helpers/certificates.js';
import { until } from '../helpers/wait.js';

const certs = makeCertificates();
const dir = mkdtempSync(join(tmpdir(), 'crossbus-net-cli-'));
after(() => {
  certs.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('crossbus hub --tcp --unix --tls', () => {
  test('prints every listener and serves each', async () => {
    const sock = join(dir, 'hub.sock');
    const f = certs.files;
    const hub = await startHubProcess([
      '--tcp',
      '127.0.0.1:0',
      '--unix',
      sock,
      '--tls',
      '127.0.0.1:0',
      '--tls-cert',
      f.serverCert,
      '--tls-key',
      f.serverKey,
    ]);
    try {
      const listening = (): string[] => [...hub.stdout().matchAll(/crossbus hub listening on (\S+)/g)].map((m) => m[1] as string);
      // The hub counts as started at its first line; the others may still be on their way.
      await until(() => listening().length >= 4, 10_000, 'every listener printed');
      const lines = listening();
      assert.equal(lines[0], hub.url);
      assert.equal(lines.length, 4);
      assert.match(lines[1] as string, /^tcp:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(lines[2], `unix://${sock}`);
      assert.match(lines[3] as string, /^tls:\/\/127\.0\.0\.1:\d+$/);
      for (const [url, kind] of [
        [lines[1], 'tcp'],
        [lines[2], 'unix'],
        [lines[3], 'tls'],
      ] as const) {
        const bus = await connect(
          url as string,
          { ...hub.credentials, tls: kind === 'tls' ? { ca: { file: f.caCert } } : undefined } as never,
        );
        assert.equal(bus.info?.transport, kind);
        assert.deepEqual(bus.info?.listeners, lines);
        await bus.close();
      }
    } finally {
      await hub.stop();
    }
  });

  test('--tls without a certificate and key is a usage error', async () => {
    const r = await runCli(['hub', '--port', '0', '--data', join(dir, 'd1'), '--tls', '127.0.0.1:0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--tls needs --tls-cert <file> and --tls-key <file>/);
  });
});
