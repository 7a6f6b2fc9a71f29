/**
 * The integrity algorithm of an integrity-only session, negotiated in the handshake: the client
 * offers, the hub picks the first it accepts, both sides seal and open with it, and nobody in the
 * middle can change the choice (the offer is under the binder, the answer under the hub's proof).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientHandshake } from '../../src/core/security/client-handshake.js';
import { HubHandshake, KeyRing, type HubHandshakeContext } from '../../src/core/security/hub-handshake.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/core/security/crypto.js';
import type { HelloPayload, WelcomePayload } from '../../src/core/protocol/handshake.js';
import type { HelloAuth, WelcomeAuth } from '../../src/core/security/handshake-messages.js';
import { encodeJson } from '../../src/core/util/json.js';
import { RECORD_TAG_OFFSET, type IntegrityAlgorithm, type ProtectionMode } from '../../src/core/security/record.js';
import { DEFAULT_INTEGRITY_ALGORITHMS } from '../../src/core/defaults.js';

const SECRET = new Uint8Array(32).map((_, i) => i + 7);
const GRANTS = {
  publish: [],
  subscribe: [],
  request: [],
  deny: { publish: [], subscribe: [], request: [] },
  ask: { publish: [], subscribe: [], request: [] },
};

function hubContext(
  crypto: CryptoProvider,
  integrityAlgorithms: readonly IntegrityAlgorithm[] = DEFAULT_INTEGRITY_ALGORITHMS,
): HubHandshakeContext {
  return {
    crypto,
    keyRing: new KeyRing(crypto),
    now: Date.now,
    maxClockSkewMs: 30_000,
    encryption: 'preferred',
    integrityAlgorithms,
    rekey: { afterRecords: 1000, afterMs: 60_000 },
    keysOf: (app) => (app === 'app' ? [{ id: 'k1', secret: SECRET }] : undefined),
  };
}

interface Offer {
  mode: ProtectionMode;
  integrity?: readonly IntegrityAlgorithm[];
  /** Rewrites the HELLO auth after the client made it (a legacy client, a man in the middle). */
  editHello?: (auth: HelloAuth) => void;
  /** Rewrites the WELCOME auth before the hub proves it (a confused hub). */
  editWelcome?: (auth: WelcomeAuth) => void;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** Runs a whole handshake and one record each way; resolves with what the hub chose. */
async function negotiate(
  clientCrypto: CryptoProvider,
  ctx: HubHandshakeContext,
  offer: Offer,
): Promise<{ chosen: IntegrityAlgorithm | undefined; tagLength: number }> {
  const client = await ClientHandshake.create({
    crypto: clientCrypto,
    secret: SECRET,
    group: 'P-256',
    mode: offer.mode,
    ...(offer.integrity ? { integrity: offer.integrity } : {}),
  });
  const auth = client.helloAuth();
  offer.editHello?.(auth);
  const payload: HelloPayload = { versions: [1], name: 'app', auth: auth as unknown as Record<string, unknown> };
  const hello = encodeJson(payload);
  const hub = await HubHandshake.begin(ctx, payload, hello, await client.binder(hello));
  const welcomeAuth = hub.welcomeAuth({ inbox: '_INBOX.x', grants: GRANTS });
  offer.editWelcome?.(welcomeAuth);
  const welcome: WelcomePayload = {
    version: 1,
    hubId: 'h',
    connectionId: 'c',
    limits: {} as WelcomePayload['limits'],
    heartbeatMs: 0,
    auth: welcomeAuth as unknown as Record<string, unknown>,
  };
  const welcomeBytes = encodeJson(welcome);
  const session = await client.finish(
    hello,
    welcomeBytes,
    JSON.parse(new TextDecoder().decode(welcomeBytes)).auth,
    await hub.prove(welcomeBytes),
  );
  const keys = await hub.verifyClient(session.proof);
  const up = await session.sealer.seal(new Uint8Array([1, 2, 3]));
  assert.deepEqual(await keys.opener.open(up, 0, up.length), new Uint8Array([1, 2, 3]));
  const down = await keys.sealer.seal(new Uint8Array([4]));
  assert.deepEqual(await session.opener.open(down, 0, down.length), new Uint8Array([4]));
  assert.equal(session.sealer.suite, keys.opener.suite);
  return { chosen: session.welcome.integrity, tagLength: up.length - RECORD_TAG_OFFSET - 3 };
}

const node = createNodeCryptoProvider();
const web = createWebCryptoProvider();

for (const [clientCrypto, hubCrypto] of [
  [node, node],
  [web, node],
  [node, web],
] as const) {
  describe(`integrity negotiation: client ${clientCrypto.name}, hub ${hubCrypto.name}`, () => {
    test('by default the client offers AES-256-GMAC first and gets it: 16-byte tags', async () => {
      assert.deepEqual(await negotiate(clientCrypto, hubContext(hubCrypto), { mode: 'integrity' }), {
        chosen: 'aes-256-gmac',
        tagLength: 16,
      });
    });

    test('a client that asks for HMAC-SHA256 gets it: 32-byte tags', async () => {
      assert.deepEqual(await negotiate(clientCrypto, hubContext(hubCrypto), { mode: 'integrity', integrity: ['hmac-sha256'] }), {
        chosen: 'hmac-sha256',
        tagLength: 32,
      });
    });

    test("the hub picks the client's first choice among those it accepts", async () => {
      const hmacOnly = hubContext(hubCrypto, ['hmac-sha256']);
      assert.equal((await negotiate(clientCrypto, hmacOnly, { mode: 'integrity' })).chosen, 'hmac-sha256');
      const both = hubContext(hubCrypto, ['hmac-sha256', 'aes-256-gmac']);
      assert.equal(
        (await negotiate(clientCrypto, both, { mode: 'integrity', integrity: ['aes-256-gmac', 'hmac-sha256'] })).chosen,
        'aes-256-gmac',
      );
    });

    test('encrypted sessions negotiate no integrity algorithm', async () => {
      assert.deepEqual(await negotiate(clientCrypto, hubContext(hubCrypto), { mode: 'encrypt' }), { chosen: undefined, tagLength: 16 });
    });
  });
}

describe('integrity negotiation: refusals and older clients', () => {
  test('nothing in common: CB_ERR_HANDSHAKE_FAILED, naming what the hub accepts', async () => {
    const err = await negotiate(node, hubContext(node, ['aes-256-gmac']), { mode: 'integrity', integrity: ['hmac-sha256'] }).catch(
      (e: Error & { code?: string }) => e,
    );
    assert.equal((err as { code?: string }).code, 'CB_ERR_HANDSHAKE_FAILED');
    assert.match((err as Error).message, /accepts aes-256-gmac/);
  });

  test('a HELLO from before the negotiation (no offer) gets HMAC-SHA256, which it knows', async () => {
    const legacy: Offer = {
      mode: 'integrity',
      editHello: (a) => {
        delete a.integrity;
      },
    };
    // The old client checked nothing about the algorithm: play it with an offer of HMAC only.
    assert.equal((await negotiate(node, hubContext(node), { ...legacy, integrity: ['hmac-sha256'] })).chosen, 'hmac-sha256');
    const strict = await codeOf(negotiate(node, hubContext(node, ['aes-256-gmac']), { ...legacy, integrity: ['hmac-sha256'] }));
    assert.equal(strict, 'CB_ERR_HANDSHAKE_FAILED', 'a hub that accepts GMAC only refuses it');
  });

  test('unknown names in an offer are skipped (a newer client may offer them)', async () => {
    const offer: Offer = {
      mode: 'integrity',
      editHello: (a) => {
        a.integrity = ['chacha-poly-mac' as IntegrityAlgorithm, 'hmac-sha256'];
      },
      integrity: ['hmac-sha256'],
    };
    assert.equal((await negotiate(node, hubContext(node), offer)).chosen, 'hmac-sha256');
  });

  test('a malformed offer is refused like any malformed hello', async () => {
    for (const bad of ['aes-256-gmac', [1], Array(9).fill('hmac-sha256')]) {
      const code = await codeOf(
        negotiate(node, hubContext(node), {
          mode: 'integrity',
          editHello: (a) => {
            (a as { integrity: unknown }).integrity = bad;
          },
        }),
      );
      assert.equal(code, 'CB_ERR_AUTH_FAILED', JSON.stringify(bad));
    }
  });

  test('a hub from before the negotiation (no integrity in WELCOME) gets HMAC-SHA256, if the client offered it', async () => {
    const oldHub = hubContext(node, ['hmac-sha256']);
    const legacy: Offer = {
      mode: 'integrity',
      editWelcome: (a) => {
        delete a.integrity;
      },
    };
    assert.deepEqual(await negotiate(node, oldHub, legacy), { chosen: undefined, tagLength: 32 });
    const gmacOnly = await codeOf(
      negotiate(node, hubContext(node, ['hmac-sha256', 'aes-256-gmac']), { ...legacy, integrity: ['aes-256-gmac'] }),
    );
    assert.equal(gmacOnly, 'CB_ERR_HUB_AUTH_FAILED', 'a client that offered GMAC only refuses a hub that names nothing');
  });

  test('a hub answering with an algorithm the client did not offer is refused by the client', async () => {
    const code = await codeOf(
      negotiate(node, hubContext(node), {
        mode: 'integrity',
        integrity: ['aes-256-gmac'],
        editWelcome: (a) => {
          a.integrity = 'hmac-sha256';
        },
      }),
    );
    assert.equal(code, 'CB_ERR_HUB_AUTH_FAILED');
    const enc = await codeOf(
      negotiate(node, hubContext(node), {
        mode: 'encrypt',
        editWelcome: (a) => {
          a.integrity = 'aes-256-gmac';
        },
      }),
    );
    assert.equal(enc, 'CB_ERR_HUB_AUTH_FAILED', 'an encrypted session carries no integrity algorithm');
  });

  test('stripping GMAC from the offer on the way breaks the binder: no silent downgrade', async () => {
    const client = await ClientHandshake.create({ crypto: node, secret: SECRET, group: 'P-256', mode: 'integrity' });
    const payload: HelloPayload = { versions: [1], name: 'app', auth: client.helloAuth() as unknown as Record<string, unknown> };
    const binder = await client.binder(encodeJson(payload));
    (payload.auth as unknown as HelloAuth).integrity = ['hmac-sha256'];
    const code = await codeOf(Promise.resolve().then(() => HubHandshake.begin(hubContext(node), payload, encodeJson(payload), binder)));
    assert.equal(code, 'CB_ERR_AUTH_FAILED');
  });
});
