/**
 * A config file with several mistakes reports every one of them, each at its path, in one run;
 * `"$schema"` is accepted; and the published JSON Schema (docs/hub-config.schema.json) is the one
 * generated from the hub's own schema, and a real JSON Schema validator agrees with the hub on
 * documents' shape.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parseHubConfig, serializeHubConfig } from '../../src/core/config/schema.js';
import { createDefaultConfig } from '../../src/node/config/config-file.js';
import { ConfigError } from '../../src/core/errors/index.js';
import { hubConfigJsonSchemaText, SCHEMA_FILE } from '../../scripts/hub-config-schema.js';

const SECRET = Buffer.alloc(32, 7).toString('base64');

function problemsOf(raw: unknown): Array<{ path: string; message: string }> {
  try {
    parseHubConfig(raw, 'hub.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CB_ERR_CONFIG_INVALID');
    return err.details?.problems as Array<{ path: string; message: string }>;
  }
  assert.fail('expected the document to be refused');
}

describe('every config problem in one run', () => {
  test('three mistakes in three places: three problems, each with its path, in one message', () => {
    const raw = {
      apps: { orders: { secret: SECRET, rols: ['x'] } },
      limits: { rate: { perSecond: -1, burst: 10 } },
      security: { encryption: 'sometimes' },
    };
    let message = '';
    try {
      parseHubConfig(raw, 'hub.json');
    } catch (err) {
      message = (err as Error).message;
    }
    const problems = problemsOf(raw);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['apps.orders.rols', 'limits.rate.perSecond', 'security.encryption'],
    );
    assert.equal(message.split('\n')[0], 'hub.json: 3 problems:');
    for (const p of problems) assert.ok(message.includes(`\n  ${p.path}: ${p.message}`), message);
  });

  test('every unknown key and every bad name is named, not only the first', () => {
    const problems = problemsOf({
      apps: { 'bad name': { secret: SECRET }, 'also bad!': { secret: SECRET }, ok: { secret: Buffer.alloc(32, 8).toString('base64') } },
      extra1: 1,
      extra2: 2,
    });
    const paths = problems.map((p) => p.path).sort();
    assert.deepEqual(paths, ['apps.also bad!', 'apps.bad name', 'extra1', 'extra2']);
  });

  test('one mistake keeps the one-line message', () => {
    assert.throws(
      () => parseHubConfig({ apps: { a: { secret: 'short' } } }, 'hub.json'),
      /^ConfigError: hub\.json: apps\.a\.secret: must be base64/,
    );
  });

  test('"$schema" is accepted and kept', () => {
    const doc = { $schema: './node_modules/crossbus/docs/hub-config.schema.json', apps: { a: { secret: SECRET } } };
    const config = parseHubConfig(doc);
    assert.equal(config.$schema, doc.$schema);
    assert.equal(serializeHubConfig(config).$schema, doc.$schema);
  });
});

describe('the published JSON Schema', () => {
  test('docs/hub-config.schema.json is up to date (npm run schema writes it)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), hubConfigJsonSchemaText(), 'run `npm run schema` and commit the result');
  });

  test('a JSON Schema validator agrees with the hub on the shape of documents', () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
    const good = [
      createDefaultConfig(),
      { $schema: 'x', apps: { a: { secret: SECRET, roles: ['r'] } }, roles: { r: { publish: ['a.>', { pattern: 'b.>', ask: true }] } } },
      serializeHubConfig(parseHubConfig({ apps: { a: { secrets: [{ id: 'k1', secret: SECRET, expiresAt: '2030-01-01T00:00:00Z' }] } } })),
      {
        apps: { a: { secret: SECRET } },
        listeners: [
          { kind: 'tcp', host: '127.0.0.1', port: 7071 },
          { kind: 'tls', host: 'h', port: 1, certFile: 'c', keyFile: 'k' },
        ],
      },
    ];
    for (const doc of good) {
      parseHubConfig(JSON.parse(JSON.stringify(doc)));
      assert.equal(validate(doc), true, JSON.stringify(validate.errors));
    }
    const bad = [
      { apps: { a: { secret: SECRET } }, extra: 1 },
      { apps: { a: { secret: SECRET, rols: [] } } },
      { apps: { 'bad name': { secret: SECRET } } },
      { apps: { a: { secret: SECRET } }, limits: { rate: { perSecond: 0, burst: 1 } } },
      { apps: { a: { secret: SECRET } }, security: { maxClockSkewMs: 1.5 } },
      { apps: { a: { secret: SECRET } }, security: { encryption: 'sometimes' } },
      { roles: {} },
      { apps: { a: { secret: SECRET } }, listeners: [{ kind: 'tcp', host: 'h', port: 1, path: 'x' }] },
    ];
    for (const doc of bad) {
      assert.throws(() => parseHubConfig(doc), ConfigError);
      assert.equal(validate(doc), false, `the JSON Schema should refuse ${JSON.stringify(doc)}`);
    }
  });
});
