/** `apps.<name>.certificates`: the TLS client certificates that identify an app (mutual TLS). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHubConfig, serializeHubConfig } from '../../src/core/config/schema.js';
import { isCrossbusError } from '../../src/core/errors/index.js';

const HEX = 'ab'.repeat(32);
const SECRET = Buffer.alloc(32, 7).toString('base64');

function problem(doc: unknown): string {
  try {
    parseHubConfig(doc, 'hub.json');
  } catch (err) {
    assert.ok(isCrossbusError(err, 'CB_ERR_CONFIG_INVALID'), String(err));
    return (err as Error).message;
  }
  assert.fail('the config was accepted');
}

describe('config: apps.<name>.certificates', () => {
  test('a fingerprint is kept in lowercase without colons; an app may have certificates only', () => {
    const colons = HEX.toUpperCase().replace(/(..)(?!$)/g, '$1:');
    const config = parseHubConfig({ apps: { svc: { certificates: [`sha256/${colons}`] } } });
    assert.deepEqual(config.apps.get('svc')?.certificates, [`sha256/${HEX}`]);
    assert.deepEqual(config.apps.get('svc')?.keys, []);
  });

  test('apps without certificates have none; serialize and parse give the same config', () => {
    const config = parseHubConfig({
      apps: { a: { secret: SECRET }, svc: { secret: Buffer.alloc(32, 8).toString('base64'), certificates: [`sha256/${HEX}`] } },
    });
    assert.deepEqual(config.apps.get('a')?.certificates, []);
    const again = parseHubConfig(serializeHubConfig(config));
    assert.deepEqual(again.apps.get('svc')?.certificates, [`sha256/${HEX}`]);
  });

  for (const [name, value] of [
    ['no sha256/ prefix', HEX],
    ['too short', `sha256/${HEX.slice(2)}`],
    ['not hex', `sha256/${'zz'.repeat(32)}`],
    ['a number', 42],
  ] as const) {
    test(`refuses a fingerprint that is ${name}`, () => {
      assert.match(problem({ apps: { svc: { certificates: [value] } } }), /sha256\//);
    });
  }

  test('refuses an empty list, the same certificate twice, and one certificate for two apps', () => {
    assert.match(problem({ apps: { svc: { certificates: [] } } }), /at least one certificate/);
    assert.match(problem({ apps: { svc: { certificates: [`sha256/${HEX}`, `sha256/${HEX.toUpperCase()}`] } } }), /listed twice/);
    assert.match(
      problem({ apps: { a: { certificates: [`sha256/${HEX}`] }, b: { certificates: [`sha256/${HEX}`] } } }),
      /already identifies app "a"/,
    );
  });
});
