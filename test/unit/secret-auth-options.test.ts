/**
 * The secret plugin's options: what a client offers for integrity-only sessions, refused early
 * when wrong, and what a hub with a narrower list makes of it, over a real Bus and Broker.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAuth } from '../../src/client/secret-auth.js';
import { connectWith } from '../../src/client/index.js';
import { Broker } from '../../src/core/broker/broker.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { Transport } from '../../src/core/transport/transport.js';
import { RecordingAudit, hubSecurity, testConfigDocument } from '../helpers/security.js';

const secret = Buffer.alloc(32, 3).toString('base64');

describe('security.integrityAlgorithms (client)', () => {
  test('defaults to AES-256-GMAC, then HMAC-SHA256; a given list is copied', () => {
    assert.deepEqual(resolveAuth({ name: 'a', secret, security: { mode: 'integrity' } })?.integrityAlgorithms, [
      'aes-256-gmac',
      'hmac-sha256',
    ]);
    const mine = ['hmac-sha256'] as const;
    const auth = resolveAuth({ name: 'a', secret, security: { mode: 'integrity', integrityAlgorithms: mine } });
    assert.deepEqual(auth?.integrityAlgorithms, ['hmac-sha256']);
    assert.notEqual(auth?.integrityAlgorithms, mine);
  });

  test('refused: with mode encrypt (conflict), empty, unknown or repeated names (invalid)', () => {
    const code = (security: object): string | undefined => {
      try {
        resolveAuth({ name: 'a', secret, security });
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    assert.equal(code({ integrityAlgorithms: ['hmac-sha256'] }), 'CB_ERR_CONFLICTING_OPTIONS', 'mode defaults to encrypt');
    assert.equal(code({ mode: 'encrypt', integrityAlgorithms: ['hmac-sha256'] }), 'CB_ERR_CONFLICTING_OPTIONS');
    for (const bad of [[], ['sha1'], ['hmac-sha256', 'hmac-sha256'], 'hmac-sha256']) {
      assert.equal(code({ mode: 'integrity', integrityAlgorithms: bad }), 'CB_ERR_INVALID_OPTION', JSON.stringify(bad));
    }
  });
});

describe('integrity algorithms end to end (Bus and Broker in memory)', () => {
  /** Tag lengths of the sealed records the client receives (byte 45 of each record). */
  async function tagLengths(hubList: string[] | undefined, clientList: string[] | undefined): Promise<number[]> {
    const doc = testConfigDocument(hubList === undefined ? {} : { security: { integrityAlgorithms: hubList } });
    const audit = new RecordingAudit();
    const broker = new Broker({ heartbeatMs: 0, security: hubSecurity(doc, audit).security });
    const seen: number[] = [];
    const connector = memoryConnector(broker);
    const spying = async (signal?: AbortSignal): Promise<Transport> => {
      const t = await connector(signal);
      const setHandlers = t.setHandlers.bind(t);
      t.setHandlers = (h) =>
        setHandlers({
          ...h,
          message: (chunk) => {
            if (chunk[5] === 15) seen.push(chunk[45]!);
            h.message(chunk);
          },
        });
      return t;
    };
    const security = {
      mode: 'integrity' as const,
      crypto: createNodeCryptoProvider(),
      ...(clientList ? { integrityAlgorithms: clientList as never } : {}),
    };
    const bus = await connectWith(spying, { name: 'test', secret: doc.apps.test.secret, reconnect: false, security });
    try {
      const got = new Promise((resolve) => bus.subscribe('e2e.x', (m) => resolve(m.data)));
      await bus.flush();
      await bus.publish('e2e.x', { ok: 1 });
      assert.deepEqual(await got, { ok: 1 });
      // The audit log says which algorithm the session uses.
      const [auth] = audit.find('auth', 'success');
      assert.equal(auth?.details?.integrity, seen[0] === 16 ? 'aes-256-gmac' : 'hmac-sha256');
      return [...new Set(seen)];
    } finally {
      await bus.close();
      await broker.close(100);
    }
  }

  test('by default: GMAC records (16-byte tags)', async () => {
    assert.deepEqual(await tagLengths(undefined, undefined), [16]);
  });

  test('a client offering HMAC-SHA256 only, or a hub accepting only it: HMAC records (32-byte tags)', async () => {
    assert.deepEqual(await tagLengths(undefined, ['hmac-sha256']), [32]);
    assert.deepEqual(await tagLengths(['hmac-sha256'], undefined), [32]);
  });

  test('nothing in common: the connection is refused with CB_ERR_HANDSHAKE_FAILED', async () => {
    await assert.rejects(tagLengths(['aes-256-gmac'], ['hmac-sha256']), (e: { code?: string }) => e.code === 'CB_ERR_HANDSHAKE_FAILED');
  });
});
