/**
 * Secrets: AES-256-GCM through WebCrypto against Wycheproof's vectors, sealing and opening a layer
 * (round trip, wrong key, moved, altered), redaction, and no secret in any error.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isCrossbusError } from '../../src/core/errors/index.js';
import {
  ENVIRONMENT_SETTINGS as S,
  SettingsKey,
  checkLayer,
  isSealed,
  openSecrets,
  redact,
  resolveSettings,
  sealSecrets,
  type SettingsLayer,
} from '../../src/core/settings/index.js';

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/wycheproof/aes_gcm_test.json', import.meta.url));
assert.ok(existsSync(VECTORS), `Wycheproof vectors not found at ${VECTORS}`);

interface GcmVector {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const b64 = (s: string) => Buffer.from(s, 'hex').toString('base64');

/** The groups our format uses: 256-bit keys, 96-bit IVs, 128-bit tags. */
const vectors: GcmVector[] = JSON.parse(readFileSync(VECTORS, 'utf8')).testGroups.flatMap(
  (g: { keySize: number; ivSize: number; tagSize: number; tests: GcmVector[] }) =>
    g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128 ? g.tests : [],
);

describe('AES-256-GCM (Wycheproof)', () => {
  test('the vectors are there: valid and invalid ones', () => {
    assert.ok(vectors.filter((t) => t.result === 'valid').length >= 20);
    assert.ok(vectors.filter((t) => t.result === 'invalid').length >= 10);
  });

  test('open: every valid vector decrypts to its message, every invalid one is refused', async () => {
    for (const t of vectors) {
      const key = await SettingsKey.import(hex(t.key));
      const opened = await key.open(hex(t.aad), `v1.${b64(t.iv)}.${b64(t.ct + t.tag)}`);
      if (t.result === 'valid') assert.equal(Buffer.from(opened ?? []).toString('hex'), t.msg, `tcId ${t.tcId}`);
      else assert.equal(opened, undefined, `tcId ${t.tcId} (${t.result})`);
    }
  });

  test('seal: node:crypto opens what we seal, under a fresh IV each time', async () => {
    for (const t of vectors.filter((v) => v.result === 'valid').slice(0, 10)) {
      const key = await SettingsKey.import(hex(t.key));
      const token = await key.seal(hex(t.aad), hex(t.msg));
      const [version, iv, sealed] = token.split('.') as [string, string, string];
      assert.equal(version, 'v1');
      const bytes = Buffer.from(sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', Buffer.from(t.key, 'hex'), Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(t.aad, 'hex'));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      const plain = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
      assert.equal(plain.toString('hex'), t.msg, `tcId ${t.tcId}`);
      assert.notEqual(await key.seal(hex(t.aad), hex(t.msg)), token, 'a fresh IV per seal');
    }
  });

  test('a key is 32 bytes, never quoted, and not in JSON', async () => {
    for (const length of [0, 16, 31, 33]) {
      await assert.rejects(SettingsKey.import(new Uint8Array(length).fill(0x41)), (e) => {
        assert.ok(isCrossbusError(e, 'CB_ERR_INVALID_OPTION'));
        assert.ok(!e.message.includes('AAAA') && !JSON.stringify(e.details).includes('65'));
        return true;
      });
    }
    assert.equal(JSON.stringify(await SettingsKey.import(new Uint8Array(32))), '{}');
  });
});

describe('sealSecrets and openSecrets', () => {
  const plain: SettingsLayer = { apiKey: 'hunter2-api', credentials: { token: 'tok-s3cret' }, logLevel: 'debug', features: { beta: true } };

  test('round trip: only secrets sealed, the input untouched', async () => {
    const key = await SettingsKey.import(randomBytes(32));
    const before = structuredClone(plain);
    const sealed = await sealSecrets(plain, S, key);
    assert.deepEqual(plain, before);
    assert.ok(isSealed(sealed.apiKey));
    assert.ok(isSealed((sealed.credentials as SettingsLayer).token));
    assert.equal(sealed.logLevel, 'debug');
    assert.equal(sealed.features, plain.features, 'what holds no secret is shared');
    const text = JSON.stringify(sealed);
    assert.ok(!text.includes('hunter2') && !text.includes('s3cret'));
    assert.match((sealed.apiKey as { $sealed: string }).$sealed, /^v1\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/=]+$/);
    assert.deepEqual(await openSecrets(sealed, S, key), plain);
    assert.deepEqual(await sealSecrets(sealed, S, key), sealed, 'sealing twice changes nothing');
    assert.deepEqual(checkLayer(S, sealed, { allowSealed: true }), [], 'a sealed layer checks without its key');
    assert.deepEqual(checkLayer(S, sealed), [
      { path: 'apiKey', message: 'is sealed: open the layer (openSecrets) before resolving it' },
      { path: 'credentials.token', message: 'is sealed: open the layer (openSecrets) before resolving it' },
    ]);
  });

  const refused = (path: string) => (e: unknown) => {
    assert.ok(isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'), String(e));
    assert.deepEqual(e.details, { path });
    const text = `${e.message}${JSON.stringify(e.details)}${String(e.cause)}`;
    for (const secret of ['hunter2', 's3cret', 'v1.']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
    return true;
  };

  test('the wrong key', async () => {
    const sealed = await sealSecrets(plain, S, await SettingsKey.import(randomBytes(32)));
    await assert.rejects(openSecrets(sealed, S, await SettingsKey.import(randomBytes(32))), refused('apiKey'));
  });

  test('a sealed value moved to another path', async () => {
    const key = await SettingsKey.import(randomBytes(32));
    const sealed = await sealSecrets(plain, S, key);
    const moved = { credentials: { token: sealed.apiKey } };
    await assert.rejects(openSecrets(moved, S, key), refused('credentials.token'));
  });

  test('any altered byte, a cut token, another version', async () => {
    const key = await SettingsKey.import(randomBytes(32));
    const { $sealed } = (await sealSecrets({ apiKey: 'hunter2' }, S, key)).apiKey as { $sealed: string };
    const [, iv, body] = $sealed.split('.') as [string, string, string];
    const bytes = Buffer.from(body, 'base64');
    const tampered: string[] = [`v2.${iv}.${body}`, `v1.${iv}`, `v1.${iv}.${body.slice(0, 8)}`, 'v1..', `v1.${iv}.${body}.x`];
    for (const at of [0, bytes.length - 1, bytes.length - 16]) {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at] as number) ^ 1;
      tampered.push(`v1.${iv}.${copy.toString('base64')}`);
    }
    const ivBytes = Buffer.from(iv, 'base64');
    ivBytes[0] = (ivBytes[0] as number) ^ 1;
    tampered.push(`v1.${ivBytes.toString('base64')}.${body}`);
    for (const token of tampered) await assert.rejects(openSecrets({ apiKey: { $sealed: token } }, S, key), refused('apiKey'), token);
  });

  test('a sealed secret opens, then resolves', async () => {
    const key = await SettingsKey.import(randomBytes(32));
    const stored = await sealSecrets({ credentials: { token: 'tok' } }, S, key);
    const r = resolveSettings(S, { user: await openSecrets(stored, S, key) });
    assert.equal(r.value.credentials.token, 'tok');
  });
});

describe('redact', () => {
  test('every secret leaf, plain or sealed; the input untouched', () => {
    const value = { apiKey: 'hunter2', credentials: { token: { $sealed: 'v1.x.y' } }, logLevel: 'info', unknown: { apiKey: 'kept' } };
    const before = structuredClone(value);
    assert.deepEqual(redact(value, S), {
      apiKey: '[redacted]',
      credentials: { token: '[redacted]' },
      logLevel: 'info',
      unknown: { apiKey: 'kept' },
    });
    assert.deepEqual(value, before);
  });

  test('a resolved configuration', () => {
    const r = resolveSettings(S, { user: { apiKey: 'hunter2' } });
    const shown = redact(r.value, S);
    assert.equal(shown.apiKey, '[redacted]');
    assert.equal(shown.credentials.token, undefined, 'an unset secret stays unset');
    assert.ok(!JSON.stringify(shown).includes('hunter2'));
  });
});
