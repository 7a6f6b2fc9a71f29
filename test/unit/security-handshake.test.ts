/**
 * The authenticated handshake between ClientHandshake and HubHandshake, without a network: both
 * sides agree on keys, wrong secrets and strangers are refused with the right code (and a private
 * audit reason), a fake hub is refused by the client, a replayed HELLO cannot finish, and two
 * sessions with the same secret never share keys. On Node's crypto and on WebCrypto, both ways.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ClientHandshake } from '../../src/core/security/client-handshake.js';
import {
  type HandshakeRefused,
  HubHandshake,
  KeyRing,
  type AppKey,
  type HubHandshakeContext,
} from '../../src/core/security/hub-handshake.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { CryptoProvider, KeyExchangeGroup } from '../../src/core/security/crypto.js';
import type { HelloPayload, WelcomePayload } from '../../src/core/protocol/handshake.js';
import { encodeJson } from '../../src/core/util/json.js';
import type { ProtectionMode } from '../../src/core/security/record.js';
import { DEFAULT_INTEGRITY_ALGORITHMS } from '../../src/core/defaults.js';

const node = createNodeCryptoProvider();
const web = createWebCryptoProvider();
const SECRET = new Uint8Array(32).map((_, i) => i + 1);
const OTHER = new Uint8Array(32).map((_, i) => 200 - i);
const GRANTS = {
  publish: ['a.>'],
  subscribe: ['a.>'],
  request: [],
  deny: { publish: [], subscribe: [], request: [] },
  ask: { publish: [], subscribe: [], request: [] },
};

function hubContext(crypto: CryptoProvider, keys: Record<string, AppKey[]>, extra: Partial<HubHandshakeContext> = {}): HubHandshakeContext {
  return {
    crypto,
    keyRing: new KeyRing(crypto),
    now: Date.now,
    maxClockSkewMs: 30_000,
    encryption: 'preferred',
    integrityAlgorithms: DEFAULT_INTEGRITY_ALGORITHMS,
    rekey: { afterRecords: 1000, afterMs: 60_000 },
    keysOf: (app) => keys[app],
    ...extra,
  };
}

interface Run {
  hello: Uint8Array;
  binder: string;
  client: ClientHandshake;
}

async function clientHello(
  crypto: CryptoProvider,
  name: string,
  secret: Uint8Array,
  group: KeyExchangeGroup,
  mode: ProtectionMode,
  now?: () => number,
): Promise<Run & { payload: HelloPayload }> {
  const client = await ClientHandshake.create({ crypto, secret, group, mode, ...(now ? { now } : {}) });
  const payload: HelloPayload = { versions: [1], name, auth: client.helloAuth() as unknown as Record<string, unknown> };
  const hello = encodeJson(payload);
  return { hello, binder: await client.binder(hello), client, payload };
}

async function refusal(fn: () => unknown): Promise<HandshakeRefused | { code: string; auditReason?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as HandshakeRefused;
  }
  return { code: 'no error' };
}

for (const [clientCrypto, hubCrypto] of [
  [node, node],
  [web, web],
  [node, web],
  [web, node],
] as const) {
  for (const group of ['P-256', 'X25519'] as KeyExchangeGroup[]) {
    describe(`handshake: client ${clientCrypto.name}, hub ${hubCrypto.name}, ${group}`, () => {
      test('both sides prove the secret and derive the same record keys', async () => {
        const ctx = hubContext(hubCrypto, { orders: [{ id: 'k1', secret: SECRET }] });
        const h = await clientHello(clientCrypto, 'orders', SECRET, group, 'encrypt');
        const hub = await HubHandshake.begin(ctx, h.payload, h.hello, h.binder);
        assert.equal(hub.app, 'orders');
        const welcome: WelcomePayload = {
          version: 1,
          hubId: 'h',
          connectionId: 'c',
          limits: {} as WelcomePayload['limits'],
          heartbeatMs: 0,
          auth: hub.welcomeAuth({ inbox: '_INBOX.x', grants: GRANTS }) as unknown as Record<string, unknown>,
        };
        const welcomeBytes = encodeJson(welcome);
        const hubProof = await hub.prove(welcomeBytes);
        const session = await h.client.finish(h.hello, welcomeBytes, welcome.auth as never, hubProof);
        const keys = await hub.verifyClient(session.proof);
        // Client to hub and hub to client records open on the other side.
        const up = await session.sealer.seal(new Uint8Array([1, 2, 3]));
        assert.deepEqual(await keys.opener.open(up, 0, up.length), new Uint8Array([1, 2, 3]));
        const down = await keys.sealer.seal(new Uint8Array([4, 5]));
        assert.deepEqual(await session.opener.open(down, 0, down.length), new Uint8Array([4, 5]));
      });
    });
  }
}

describe('handshake refusals', () => {
  const ctx = hubContext(node, { orders: [{ id: 'k1', secret: SECRET }], old: [{ id: 'k0', secret: OTHER, expiresAt: Date.now() - 1 }] });

  test('no credentials: CB_ERR_AUTH_REQUIRED', async () => {
    const err = await refusal(() => HubHandshake.begin(ctx, { versions: [1], name: 'orders' }, new Uint8Array(), undefined));
    assert.equal(err.code, 'CB_ERR_AUTH_REQUIRED');
  });

  test('wrong secret, unknown app and unknown key id: one public code, precise private reasons', async () => {
    const wrong = await clientHello(node, 'orders', OTHER, 'P-256', 'encrypt');
    // OTHER derives a different key id: "unknown key id". Same id but a wrong binder: "wrong secret".
    const e1 = await refusal(() => HubHandshake.begin(ctx, wrong.payload, wrong.hello, wrong.binder));
    assert.equal(e1.code, 'CB_ERR_AUTH_FAILED');
    assert.match(e1.auditReason ?? '', /unknown key id/);
    const good = await clientHello(node, 'orders', SECRET, 'P-256', 'encrypt');
    const e2 = await refusal(() => HubHandshake.begin(ctx, good.payload, good.hello, wrong.binder));
    assert.equal(e2.code, 'CB_ERR_AUTH_FAILED');
    assert.match(e2.auditReason ?? '', /wrong secret/);
    const stranger = await clientHello(node, 'nobody', SECRET, 'P-256', 'encrypt');
    const e3 = await refusal(() => HubHandshake.begin(ctx, stranger.payload, stranger.hello, stranger.binder));
    assert.equal(e3.code, 'CB_ERR_AUTH_FAILED');
    assert.match(e3.auditReason ?? '', /unknown app/);
    for (const e of [e1, e2, e3])
      assert.equal((e as Error).message, 'authentication failed', 'nothing tells a stranger which part was wrong');
  });

  test('tampered HELLO (binder no longer matches): CB_ERR_AUTH_FAILED', async () => {
    const h = await clientHello(node, 'orders', SECRET, 'P-256', 'encrypt');
    const tampered = encodeJson({ ...h.payload, client: 'evil' });
    const e = await refusal(() => HubHandshake.begin(ctx, h.payload, tampered, h.binder));
    assert.equal(e.code, 'CB_ERR_AUTH_FAILED');
  });

  test('expired key: CB_ERR_KEY_EXPIRED (only after the binder proves the secret)', async () => {
    const h = await clientHello(node, 'old', OTHER, 'P-256', 'encrypt');
    const e = await refusal(() => HubHandshake.begin(ctx, h.payload, h.hello, h.binder));
    assert.equal(e.code, 'CB_ERR_KEY_EXPIRED');
  });

  test('hello clock outside the window either way: CB_ERR_CLOCK_SKEW', async () => {
    for (const off of [31_000, -31_000]) {
      const h = await clientHello(node, 'orders', SECRET, 'P-256', 'encrypt', () => Date.now() + off);
      const e = await refusal(() => HubHandshake.begin(ctx, h.payload, h.hello, h.binder));
      assert.equal(e.code, 'CB_ERR_CLOCK_SKEW', `offset ${off}`);
    }
  });

  test('integrity-only refused when the hub requires encryption', async () => {
    const strict = hubContext(node, { orders: [{ id: 'k1', secret: SECRET }] }, { encryption: 'required' });
    const h = await clientHello(node, 'orders', SECRET, 'P-256', 'integrity');
    const e = await refusal(() => HubHandshake.begin(strict, h.payload, h.hello, h.binder));
    assert.equal(e.code, 'CB_ERR_FORBIDDEN');
  });

  test('a fake hub (no secret) cannot make the proof: the client says CB_ERR_HUB_AUTH_FAILED', async () => {
    const h = await clientHello(node, 'orders', SECRET, 'P-256', 'encrypt');
    // The impostor can send a well-formed WELCOME (its own key share), but not a proof over it.
    const impostor = await HubHandshake.begin(hubContext(node, { orders: [{ id: 'k1', secret: SECRET }] }), h.payload, h.hello, h.binder);
    const welcome = encodeJson({ version: 1, auth: impostor.welcomeAuth({ inbox: '_INBOX.x', grants: GRANTS }) });
    const auth = JSON.parse(new TextDecoder().decode(welcome)).auth;
    const randomProof = Buffer.from(node.randomBytes(32)).toString('base64');
    const e = await refusal(() => h.client.finish(h.hello, welcome, auth, randomProof));
    assert.equal(e.code, 'CB_ERR_HUB_AUTH_FAILED');
    const noAuth = await refusal(() => h.client.finish(h.hello, welcome, undefined, undefined));
    assert.equal(noAuth.code, 'CB_ERR_HUB_AUTH_FAILED', 'an --insecure hub cannot stand in for a real one');
  });

  test('a replayed HELLO gets a WELCOME but can never finish (the attacker lacks the ephemeral key)', async () => {
    const h = await clientHello(node, 'orders', SECRET, 'P-256', 'encrypt');
    const first = await HubHandshake.begin(ctx, h.payload, h.hello, h.binder);
    const w1 = encodeJson({ version: 1, auth: first.welcomeAuth({ inbox: '_INBOX.a', grants: GRANTS }) });
    const p1 = await first.prove(w1);
    const session = await h.client.finish(h.hello, w1, JSON.parse(new TextDecoder().decode(w1)).auth, p1);
    await first.verifyClient(session.proof);
    // Replay the recorded HELLO and the recorded AUTH proof against a new hub session.
    const replay = await HubHandshake.begin(ctx, h.payload, h.hello, h.binder);
    const w2 = encodeJson({ version: 1, auth: replay.welcomeAuth({ inbox: '_INBOX.b', grants: GRANTS }) });
    await replay.prove(w2);
    const e = await refusal(() => replay.verifyClient(session.proof));
    assert.equal(e.code, 'CB_ERR_AUTH_FAILED');
    assert.match(e.auditReason ?? '', /client proof/);
  });

  test('two sessions with the same secret have unrelated keys (a recording of one opens nothing later)', async () => {
    const sessions: Array<{
      client: Awaited<ReturnType<ClientHandshake['finish']>>;
      hub: Awaited<ReturnType<HubHandshake['verifyClient']>>;
    }> = [];
    for (let i = 0; i < 2; i++) {
      const h = await clientHello(node, 'orders', SECRET, 'X25519', 'encrypt');
      const hub = await HubHandshake.begin(ctx, h.payload, h.hello, h.binder);
      const w = encodeJson({ version: 1, auth: hub.welcomeAuth({ inbox: '_INBOX.a', grants: GRANTS }) });
      const proof = await hub.prove(w);
      const s = await h.client.finish(h.hello, w, JSON.parse(new TextDecoder().decode(w)).auth, proof);
      sessions.push({ client: s, hub: await hub.verifyClient(s.proof) });
    }
    const rec = await sessions[0]!.client.sealer.seal(new TextEncoder().encode('secret order'));
    await assert.rejects(async () => sessions[1]!.hub.opener.open(rec, 0, rec.length), { code: 'CB_ERR_INTEGRITY' });
  });
});
