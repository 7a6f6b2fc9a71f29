/**
 * A TLS listener's certificate reloaded without a restart, with certificates made at run time:
 * rotated files are picked up by the watcher (and by SIGHUP in a real hub process); new clients get
 * the new certificate while a connection opened before goes on working; a broken rotation (a key
 * that does not match, a file gone) keeps serving the previous certificate and says so with
 * CB_ERR_TLS in the log and a `tls-reload` event.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { startHub, type Hub } from '../../src/hub/hub.js';
import type { HubEvents } from '../../src/hub/events.js';
import { connect, type Bus } from '../../src/node/index.js';
import { certificateFingerprint, listenSocket } from '../../src/transports/net/socket-listener.node.js';
import { anotherServerPair, makeCertificates } from '../helpers/certificates.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { recordingLogger } from '../helpers/recording-logger.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const certs = makeCertificates();
const second = anotherServerPair(certs, 'server-2');
const third = anotherServerPair(certs, 'server-3');
const dir = mkdtempSync(join(tmpdir(), 'crossbus-tls-reload-'));
after(() => {
  certs.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const SECRET = Buffer.alloc(32, 7).toString('base64');
const CONFIG = { apps: { a: { secret: SECRET, roles: ['all'] } }, roles: { all: { publish: ['>'], subscribe: ['>'] } } };

/** The certificate a new TLS client is served by `url`, as its fingerprint. */
function servedFingerprint(url: string): Promise<string> {
  const [host, port] = url.slice('tls://'.length).split(':');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port: Number(port), ca: certs.caCert }, () => {
      resolve(certificateFingerprint(socket.getPeerX509Certificate() as X509Certificate));
      socket.end();
    });
    socket.once('error', reject);
  });
}

const fingerprintOf = (pem: string): string => certificateFingerprint(new X509Certificate(pem));
const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber;

/** Writes both files aside, then renames them into place back to back (how a rotation replaces files). */
function rotate(folder: string, pair: { cert?: string; key?: string }): void {
  for (const [name, pem] of [
    ['hub.crt', pair.cert],
    ['hub.key', pair.key],
  ] as const) {
    if (pem !== undefined) writeFileSync(join(folder, `.${name}.new`), pem, { mode: 0o600 });
  }
  for (const [name, pem] of [
    ['hub.crt', pair.cert],
    ['hub.key', pair.key],
  ] as const) {
    if (pem !== undefined) renameSync(join(folder, `.${name}.new`), join(folder, name));
  }
}

function nextReload(hub: Hub): Promise<HubEvents['tls-reload']> {
  return new Promise((resolve) => hub.events.once('tls-reload', resolve));
}

/** A subscription on `bus` and a publish from `from` that must arrive: the connection works. */
async function roundTrip(bus: Bus, from: Bus, topic: string): Promise<void> {
  const sub = bus.subscribe(topic);
  await bus.flush();
  const got = (async () => {
    for await (const m of sub) return m.data;
    return undefined;
  })();
  await from.publish(topic, { topic });
  assert.deepEqual(await got, { topic });
}

describe('TLS certificates reloaded without a restart', () => {
  test('watched files: a rotation serves new clients the new certificate, open connections go on; a broken one keeps the old', {
    timeout: 30_000,
  }, async () => {
    const folder = mkdtempSync(join(dir, 'watch-'));
    rotate(folder, certs.server);
    const { logger, records } = recordingLogger();
    const hub = await startHub({
      port: 0,
      config: CONFIG,
      logger,
      listeners: [
        {
          kind: 'tls',
          host: '127.0.0.1',
          port: 0,
          cert: { file: join(folder, 'hub.crt') },
          key: { file: join(folder, 'hub.key') },
          reloadDebounceMs: 50,
        },
      ],
    });
    const buses: Bus[] = [];
    const open = async (): Promise<Bus> => {
      const bus = await connect(url, { name: 'a', secret: SECRET, reconnect: false, tls: { ca: certs.caCert } });
      buses.push(bus);
      return bus;
    };
    const url = hub.urls[1] as string;
    try {
      assert.equal(await servedFingerprint(url), fingerprintOf(certs.server.cert));
      const before = await open();
      const reloaded = nextReload(hub);
      rotate(folder, second);
      const event = await reloaded;
      assert.deepEqual(
        { outcome: event.outcome, listener: event.listener, fingerprint: event.fingerprint, serialNumber: event.serialNumber },
        { outcome: 'reloaded', listener: url, fingerprint: fingerprintOf(second.cert), serialNumber: serialOf(second.cert) },
      );
      assert.equal(await servedFingerprint(url), fingerprintOf(second.cert), 'a new client gets the new certificate');
      const after = await open();
      await roundTrip(before, after, 'rotated.one');
      await roundTrip(after, before, 'rotated.two');
      assert.ok(records.some((r) => r.level === 'info' && r.message === 'TLS certificates reloaded' && r.fields?.listener === url));

      // A key that does not match the certificate: refused, the second certificate stays.
      const mismatched = nextReload(hub);
      rotate(folder, { key: third.key });
      const failure = await mismatched;
      assert.equal(failure.outcome, 'failed');
      assert.equal(failure.error?.code, 'CB_ERR_TLS');
      assert.equal(failure.error?.details?.tlsCode, 'ERR_OSSL_X509_KEY_VALUES_MISMATCH');
      assert.equal(failure.fingerprint, fingerprintOf(second.cert), 'the event names the certificate kept');
      assert.equal(await servedFingerprint(url), fingerprintOf(second.cert));
      const logged = records.find((r) => r.level === 'error' && r.fields?.code === 'CB_ERR_TLS');
      assert.ok(logged !== undefined, 'logged as CB_ERR_TLS');
      assert.doesNotMatch(JSON.stringify(records), /PRIVATE KEY/, 'no key material in the log');
      await roundTrip(before, after, 'kept.one');
      await open(); // and new clients still connect, with the previous certificate

      // A file that cannot be read: the same.
      const unreadable = nextReload(hub);
      unlinkSync(join(folder, 'hub.key'));
      const gone = await unreadable;
      assert.equal(gone.outcome, 'failed');
      assert.equal(gone.error?.code, 'CB_ERR_TLS');
      assert.equal(gone.error?.details?.file, join(folder, 'hub.key'));
      assert.match(gone.error?.message ?? '', /ENOENT/);
      assert.equal(await servedFingerprint(url), fingerprintOf(second.cert));

      // A good rotation after the failures is taken.
      const recovered = nextReload(hub);
      rotate(folder, third);
      assert.equal((await recovered).outcome, 'reloaded');
      assert.equal(await servedFingerprint(url), fingerprintOf(third.cert));
      await roundTrip(before, await open(), 'recovered');
    } finally {
      await Promise.all(buses.map((b) => b.close()));
      await hub.close();
    }
  });

  test('reloadCertificates() reads the files when asked, with watching off; unchanged files are left alone', async () => {
    const folder = mkdtempSync(join(dir, 'asked-'));
    rotate(folder, certs.server);
    const hub = await startHub({
      port: 0,
      config: CONFIG,
      listeners: [
        { kind: 'tcp', host: '127.0.0.1', port: 0 },
        {
          kind: 'tls',
          host: '127.0.0.1',
          port: 0,
          cert: { file: join(folder, 'hub.crt') },
          key: { file: join(folder, 'hub.key') },
          watchFiles: false,
        },
      ],
    });
    const url = hub.urls[2] as string;
    try {
      assert.deepEqual(await hub.reloadCertificates(), [{ listener: url, outcome: 'unchanged' }]);
      rotate(folder, second);
      assert.equal(await servedFingerprint(url), fingerprintOf(certs.server.cert), 'not watched: still the first');
      assert.deepEqual(await hub.reloadCertificates(), [{ listener: url, outcome: 'reloaded' }]);
      assert.equal(await servedFingerprint(url), fingerprintOf(second.cert));
      rotate(folder, { cert: third.cert });
      assert.deepEqual(await hub.reloadCertificates(), [{ listener: url, outcome: 'failed' }]);
      assert.equal(await servedFingerprint(url), fingerprintOf(second.cert));
    } finally {
      await hub.close();
    }
  });

  test('a hub process reloads on SIGHUP (watching off in its config file), and audits it', { timeout: 30_000 }, async () => {
    const folder = mkdtempSync(join(dir, 'sighup-'));
    rotate(folder, certs.server);
    const config = testConfigDocument({
      listeners: [
        { kind: 'tls', host: '127.0.0.1', port: 0, certFile: join(folder, 'hub.crt'), keyFile: join(folder, 'hub.key'), watchFiles: false },
      ],
    });
    const hub = await startHubProcess([], { config });
    try {
      const listening = /crossbus hub listening on (tls:\S+)\n/;
      await until(() => listening.test(hub.stdout()), 10_000, 'the TLS listening line');
      const url = listening.exec(hub.stdout())?.[1] as string;
      const before = await connect(url, { ...hub.credentials, reconnect: false, tls: { ca: certs.caCert } } as never);
      try {
        rotate(folder, second);
        hub.proc.kill('SIGHUP');
        await until(() => hub.stderr().includes('TLS certificates reloaded'), 10_000, 'the reload in the log');
        assert.equal(await servedFingerprint(url), fingerprintOf(second.cert));
        const after = await connect(url, { ...hub.credentials, reconnect: false, tls: { ca: certs.caCert } } as never);
        await roundTrip(before, after, 'sighup.rotated');
        await after.close();
        const audit = readFileSync(join(hub.dataDir, 'audit.jsonl'), 'utf8');
        assert.match(audit, /"action":"tls-reload"[^\n]*"outcome":"success"/);
      } finally {
        await before.close();
      }
    } finally {
      await hub.stop();
    }
  });

  test('reloadDebounceMs takes 0..600,000 ms; a TCP listener has nothing to reload', async () => {
    for (const bad of [-1, 600_001, 2.5]) {
      await rejectsWithCode(
        listenSocket({ kind: 'tls', host: '127.0.0.1', port: 0, ...certs.server, reloadDebounceMs: bad, onConnection: () => {} }),
        'CB_ERR_INVALID_OPTION',
      );
    }
    for (const ok of [0, 600_000]) {
      const l = await listenSocket({
        kind: 'tls',
        host: '127.0.0.1',
        port: 0,
        ...certs.server,
        reloadDebounceMs: ok,
        onConnection: () => {},
      });
      assert.equal(await l.reloadCertificates?.(), 'unchanged', 'inline PEM never changes');
      await l.close();
    }
    const tcp = await listenSocket({ kind: 'tcp', host: '127.0.0.1', port: 0, onConnection: () => {} });
    assert.equal(tcp.reloadCertificates, undefined);
    await tcp.close();
  });
});
