/**
 * Mutual TLS: a hub's TLS listener asks for client certificates; one that verifies against the
 * listener's CA and is listed under an app's `certificates` makes the session that app's (no
 * secret); any other client authenticates with its secret as everywhere else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type Hub } from '../../src/hub/hub.js';
import { connect } from '../../src/node/index.js';
import { certificateFingerprint } from '../../src/transports/net/socket-listener.node.js';
import { makeCertificates } from '../helpers/certificates.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { testConfigDocument } from '../helpers/security.js';

const certs = makeCertificates();
after(() => certs.cleanup());

describe('mutual TLS: client certificates mapped to apps', () => {
  let hub: Hub;
  let url: string;
  const doc = testConfigDocument();
  const fingerprint = certificateFingerprint(new X509Certificate(certs.client.cert));
  before(async () => {
    hub = await startHub({
      port: 0,
      config: {
        ...doc,
        apps: {
          ...doc.apps,
          // Colons and capitals, as openssl prints a fingerprint: the config takes either.
          svc: {
            certificates: [
              `sha256/${fingerprint
                .slice(7)
                .toUpperCase()
                .replace(/(..)(?!$)/g, '$1:')}`,
            ],
            roles: ['billing'],
          },
        },
      },
      listeners: [{ kind: 'tls', host: '127.0.0.1', port: 0, ...certs.server, ca: certs.caCert, requestClientCertificates: true }],
    });
    url = hub.urls[1] as string;
  });
  after(() => hub.close());

  test('a mapped certificate is the app: no secret, its grants', async () => {
    const bus = await connect(url, { name: 'svc', tls: { ca: certs.caCert, cert: certs.client.cert, key: certs.client.key } });
    try {
      assert.equal(bus.info?.transport, 'tls');
      const auth = bus.info?.auth as { app?: string; origin?: string } | undefined;
      assert.equal(auth?.app, 'svc');
      assert.equal(auth?.origin, `cert:${fingerprint}`);
      await bus.publish('billing.paid', { n: 1 });
      await rejectsWithCode(bus.publish('orders.created', { n: 1 }), 'CB_ERR_FORBIDDEN');
    } finally {
      await bus.close();
    }
  });

  test('a certificate from a CA the listener does not trust identifies nobody: a secret is needed', async () => {
    await rejectsWithCode(
      connect(url, {
        name: 'svc',
        tls: { ca: certs.caCert, cert: certs.strangerClient.cert, key: certs.strangerClient.key },
        timeoutMs: 5000,
      }),
      'CB_ERR_AUTH_REQUIRED',
    );
  });

  test('a client without a certificate authenticates with its secret', async () => {
    const bus = await connect(url, { name: 'test', secret: doc.apps.test.secret, tls: { ca: certs.caCert } });
    assert.equal(bus.info?.transport, 'tls');
    await bus.close();
  });

  test('a reload that drops the certificate ends its session with CB_ERR_REVOKED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossbus-mtls-'));
    const configFile = join(dir, 'hub.json');
    const withCert = { ...doc, apps: { ...doc.apps, svc: { certificates: [fingerprint], roles: ['billing'] } } };
    writeFileSync(configFile, JSON.stringify(withCert));
    const reloading = await startHub({
      port: 0,
      configFile,
      listeners: [{ kind: 'tls', host: '127.0.0.1', port: 0, ...certs.server, ca: certs.caCert, requestClientCertificates: true }],
    });
    try {
      const bus = await connect(reloading.urls[1] as string, {
        name: 'svc',
        reconnect: false,
        tls: { ca: certs.caCert, cert: certs.client.cert, key: certs.client.key },
      });
      const errors: string[] = [];
      bus.on('error', (e) => errors.push(e.error.code));
      const closed = new Promise<void>((resolve) => bus.on('closed', () => resolve()));
      writeFileSync(
        configFile,
        JSON.stringify({ ...doc, apps: { ...doc.apps, svc: { secret: Buffer.alloc(32, 9).toString('base64'), roles: ['billing'] } } }),
      );
      const result = await reloading.reload();
      assert.equal(result.closed, 1);
      await closed;
      assert.deepEqual(errors, ['CB_ERR_REVOKED'], 'the hub said why (an ERROR frame: a socket carries no close reason)');
    } finally {
      await reloading.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the same certificate over plain TCP identifies nobody', async () => {
    const tcpHub = await startHub({ port: 0, config: { ...doc }, listeners: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] });
    try {
      await rejectsWithCode(connect(tcpHub.urls[1] as string, { name: 'svc', timeoutMs: 5000 }), 'CB_ERR_AUTH_REQUIRED');
    } finally {
      await tcpHub.close();
    }
  });
});
