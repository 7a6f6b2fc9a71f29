import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHubConfig, serializeHubConfig } from '../../src/core/config/schema.js';
import { ConfigError, isCrossbusError } from '../../src/core/errors/index.js';
import {
  DEFAULT_ABUSE,
  DEFAULT_CONSENT_TIMEOUT_MS,
  DEFAULT_ENCRYPTION,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_RATE,
  DEFAULT_REKEY_AFTER_MESSAGES,
  DEFAULT_REKEY_AFTER_MS,
} from '../../src/core/defaults.js';

const SECRET_A = Buffer.alloc(32, 1).toString('base64');
const SECRET_B = Buffer.alloc(48, 2).toString('base64');

/** The example from the design, as a fresh object every time. */
function example(): Record<string, any> {
  return {
    apps: {
      orders: { secret: SECRET_A, roles: ['orders-service'] },
      billing: {
        secrets: [{ id: 'k2', secret: SECRET_B, notBefore: '2026-01-01T00:00:00Z', expiresAt: '2027-01-01T00:00:00Z' }],
        roles: ['billing'],
        rate: { perSecond: 50, burst: 100 },
      },
    },
    roles: {
      'orders-service': {
        publish: ['orders.>'],
        subscribe: ['orders.>', 'apps.{app}.>'],
        request: ['billing.*'],
        deny: { publish: ['orders.admin.>'] },
      },
      billing: { subscribe: ['billing.>'] },
      'camera-user': { subscribe: [{ pattern: 'camera.>', ask: true }] },
    },
    origins: ['http://localhost:7071'],
    limits: { rate: { perSecond: 1000, burst: 2000 }, topicRates: [{ pattern: 'chat.>', perSecond: 10, burst: 20 }] },
    security: {
      encryption: 'preferred',
      maxClockSkewMs: 30000,
      rekeyAfterMessages: 1000000,
      rekeyAfterMs: 3600000,
      consentTimeoutMs: 60000,
      abuse: { violationsPerWindow: 50, windowMs: 10000 },
    },
  };
}

function edited(change: (c: Record<string, any>) => void): Record<string, any> {
  const c = example();
  change(c);
  return c;
}

/** Asserts a ConfigError CB_ERR_CONFIG_INVALID whose message starts with the JSON path. */
function rejects(raw: unknown, path: string, problem: RegExp): void {
  assert.throws(
    () => parseHubConfig(raw),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.ok(isCrossbusError(err, 'CB_ERR_CONFIG_INVALID'));
      assert.ok(err.message.startsWith(`${path}: `), `message ${JSON.stringify(err.message)} should start with ${path}`);
      assert.match(err.message, problem);
      assert.equal(err.details?.path, path);
      return true;
    },
  );
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

describe('hub config schema: the example', () => {
  test('parses and normalizes', () => {
    const cfg = parseHubConfig(example());
    const orders = cfg.apps.get('orders')!;
    assert.equal(orders.name, 'orders');
    assert.deepEqual(
      orders.keys.map((k) => k.id),
      ['k1'],
    );
    assert.deepEqual(orders.keys[0]!.secret, new Uint8Array(32).fill(1));
    assert.deepEqual(orders.roles, ['orders-service']);
    assert.equal(orders.rate, undefined);
    const billing = cfg.apps.get('billing')!;
    assert.deepEqual(billing.keys[0], {
      id: 'k2',
      secret: new Uint8Array(48).fill(2),
      notBefore: Date.UTC(2026, 0, 1),
      expiresAt: Date.UTC(2027, 0, 1),
    });
    assert.deepEqual(billing.rate, { perSecond: 50, burst: 100 });
    const role = cfg.roles.get('orders-service')!;
    assert.deepEqual(role.subscribe, [
      { pattern: 'orders.>', ask: false },
      { pattern: 'apps.{app}.>', ask: false },
    ]);
    assert.deepEqual(role.deny, { publish: ['orders.admin.>'], subscribe: [], request: [] });
    assert.deepEqual(cfg.roles.get('camera-user')!.subscribe, [{ pattern: 'camera.>', ask: true }]);
    assert.deepEqual(cfg.origins, ['http://localhost:7071']);
    assert.deepEqual(cfg.limits, { rate: { perSecond: 1000, burst: 2000 }, topicRates: [{ pattern: 'chat.>', perSecond: 10, burst: 20 }] });
    assert.equal(cfg.security.encryption, 'preferred');
  });

  test('never mutates the input, and the result shares no arrays with it', () => {
    const raw = deepFreeze(example());
    const before = JSON.stringify(raw);
    const cfg = parseHubConfig(raw);
    assert.equal(JSON.stringify(raw), before);
    assert.notEqual(cfg.origins, raw.origins);
    assert.notEqual(cfg.apps.get('orders')!.roles, raw.apps.orders.roles);
  });

  test('defaults: only apps is required', () => {
    const cfg = parseHubConfig({ apps: {} });
    assert.equal(cfg.apps.size, 0);
    assert.equal(cfg.roles.size, 0);
    assert.deepEqual(cfg.origins, []);
    assert.deepEqual(cfg.limits, { rate: DEFAULT_RATE, topicRates: [] });
    assert.deepEqual(cfg.security, {
      encryption: DEFAULT_ENCRYPTION,
      integrityAlgorithms: ['aes-256-gmac', 'hmac-sha256'],
      maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS,
      rekeyAfterMessages: DEFAULT_REKEY_AFTER_MESSAGES,
      rekeyAfterMs: DEFAULT_REKEY_AFTER_MS,
      consentTimeoutMs: DEFAULT_CONSENT_TIMEOUT_MS,
      abuse: DEFAULT_ABUSE,
    });
    assert.deepEqual(
      [DEFAULT_ENCRYPTION, DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REKEY_AFTER_MESSAGES, DEFAULT_REKEY_AFTER_MS, DEFAULT_CONSENT_TIMEOUT_MS],
      ['preferred', 30_000, 1_000_000, 3_600_000, 60_000],
    );
    assert.deepEqual(DEFAULT_RATE, { perSecond: 1000, burst: 2000 });
    assert.deepEqual(DEFAULT_ABUSE, { violationsPerWindow: 50, windowMs: 10_000 });
  });

  test('security fields default one by one; abuse too', () => {
    const cfg = parseHubConfig({ apps: {}, security: { encryption: 'required', abuse: { windowMs: 5000 } } });
    assert.equal(cfg.security.encryption, 'required');
    assert.equal(cfg.security.maxClockSkewMs, 30_000);
    assert.deepEqual(cfg.security.abuse, { violationsPerWindow: 50, windowMs: 5000 });
  });

  test('integrityAlgorithms: known names, at least one, none twice', () => {
    assert.deepEqual(parseHubConfig({ apps: {}, security: { integrityAlgorithms: ['hmac-sha256'] } }).security.integrityAlgorithms, [
      'hmac-sha256',
    ]);
    for (const [bad, message] of [
      [[], /security\.integrityAlgorithms: must name at least one/],
      [['aes-256-gmac', 'md5'], /security\.integrityAlgorithms\[1\]: must be one of aes-256-gmac, hmac-sha256, got "md5"/],
      [['hmac-sha256', 'hmac-sha256'], /security\.integrityAlgorithms\[1\]: "hmac-sha256" is listed twice/],
      ['hmac-sha256', /security\.integrityAlgorithms/],
    ] as const) {
      assert.throws(
        () => parseHubConfig({ apps: {}, security: { integrityAlgorithms: bad } }),
        (e: Error & { code?: string }) => e.code === 'CB_ERR_CONFIG_INVALID' && message.test(e.message),
        JSON.stringify(bad),
      );
    }
  });

  test('origins are normalized to what browsers send, and deduplicated', () => {
    const cfg = parseHubConfig({
      apps: {},
      origins: [
        'HTTP://LocalHost:7071',
        'http://localhost:7071',
        'https://example.com:443',
        'http://[::1]:8080',
        'null',
        'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
        'http://a.example:0080',
      ],
    });
    assert.deepEqual(cfg.origins, [
      'http://localhost:7071',
      'https://example.com',
      'http://[::1]:8080',
      'null',
      'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
      'http://a.example',
    ]);
  });

  test('the source (file) starts the message', () => {
    assert.throws(
      () => parseHubConfig({ apps: {}, extra: 1 }, '/etc/crossbus.json'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message ===
          '/etc/crossbus.json: extra: is not a known setting (expected $schema, apps, roles, origins, limits, security, listeners, metrics, alerts, staticApps, cluster)' &&
        e.details?.source === '/etc/crossbus.json',
    );
  });
});

describe('hub config schema: every rule rejects with the path', () => {
  test('the document', () => {
    rejects(null, '(config)', /must be an object, got null/);
    rejects([], '(config)', /got an array/);
    rejects('apps: {}', '(config)', /got a string/);
    rejects({}, 'apps', /is required/);
    rejects(
      edited((c) => {
        c.originz = [];
      }),
      'originz',
      /not a known setting/,
    );
    rejects(
      edited((c) => {
        c.apps = [];
      }),
      'apps',
      /must be an object of apps by name, got an array/,
    );
  });

  test('app names', () => {
    rejects(
      edited((c) => {
        c.apps['bad name'] = c.apps.orders;
        delete c.apps.orders;
      }),
      'apps.bad name',
      /app name must be 1 to 64 characters/,
    );
    rejects(
      edited((c) => {
        c.apps['x'.repeat(65)] = c.apps.orders;
        delete c.apps.orders;
      }),
      `apps.${'x'.repeat(65)}`,
      /app name/,
    );
    rejects(JSON.parse(`{"apps": {"__proto__": {"secret": "${SECRET_A}"}}}`), 'apps.__proto__', /app name is reserved/);
    rejects({ apps: { constructor: { secret: SECRET_A } } }, 'apps.constructor', /reserved/);
    rejects(
      edited((c) => {
        c.apps.orders.rols = [];
      }),
      'apps.orders.rols',
      /not a known setting/,
    );
  });

  test('secrets', () => {
    const short = Buffer.alloc(31, 7).toString('base64');
    rejects(
      edited((c) => {
        c.apps.orders.secret = short;
      }),
      'apps.orders.secret',
      /^apps\.orders\.secret: must be base64 of at least 32 bytes; it decodes to 31 bytes$/,
    );
    rejects(
      edited((c) => {
        c.apps.orders.secret = 'not base64!'.repeat(5);
      }),
      'apps.orders.secret',
      /must be base64 of at least 32 bytes; it is not valid base64/,
    );
    rejects(
      edited((c) => {
        c.apps.orders.secret = 42;
      }),
      'apps.orders.secret',
      /must be base64 of at least 32 bytes, got a number/,
    );
    rejects(
      edited((c) => {
        c.apps.orders.secrets = [{ id: 'k9', secret: SECRET_A }];
      }),
      'apps.orders',
      /has both "secret" and "secrets"/,
    );
    rejects(
      edited((c) => {
        delete c.apps.orders.secret;
      }),
      'apps.orders',
      /needs a "secret", a "secrets" list or "origins"/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets = [];
      }),
      'apps.billing.secrets',
      /at least one key/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets.push({ id: 'k2', secret: Buffer.alloc(32, 9).toString('base64') });
      }),
      'apps.billing.secrets[1].id',
      /duplicate key id "k2"/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets[0].id = 'k 2';
      }),
      'apps.billing.secrets[0].id',
      /key id must be/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets[0].secret = 'AAAA';
      }),
      'apps.billing.secrets[0].secret',
      /at least 32 bytes/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets[0].expiresAt = '2027-01-01';
      }),
      'apps.billing.secrets[0].expiresAt',
      /ISO 8601 time with a time zone/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets[0].notBefore = 'tomorrow';
      }),
      'apps.billing.secrets[0].notBefore',
      /ISO 8601/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets[0].expiresAt = '2025-01-01T00:00:00Z';
      }),
      'apps.billing.secrets[0].expiresAt',
      /later than notBefore/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.secrets[0].secret = SECRET_A;
      }),
      'apps.billing',
      /same secret as a key of app "orders"/,
    );
  });

  test('secrets never appear in messages', () => {
    const leaky = `${SECRET_A.slice(0, 20)}`;
    for (const raw of [
      edited((c) => {
        c.apps.orders.secret = leaky;
      }),
      edited((c) => {
        c.apps.orders.secret = `${SECRET_A}#`;
      }),
    ]) {
      assert.throws(
        () => parseHubConfig(raw),
        (e: unknown) => e instanceof ConfigError && !e.message.includes(leaky.slice(0, 12)),
      );
    }
  });

  test('app roles and rate', () => {
    rejects(
      edited((c) => {
        c.apps.orders.roles = ['nope'];
      }),
      'apps.orders.roles[0]',
      /role "nope" is not defined under "roles"/,
    );
    rejects(
      edited((c) => {
        c.apps.orders.roles = ['billing', 'billing'];
      }),
      'apps.orders.roles[1]',
      /listed twice/,
    );
    rejects(
      edited((c) => {
        c.apps.orders.roles = 'orders-service';
      }),
      'apps.orders.roles',
      /must be an array/,
    );
    rejects(
      edited((c) => {
        c.apps.orders.roles = [1];
      }),
      'apps.orders.roles[0]',
      /must be a string/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.rate = { perSecond: 0, burst: 1 };
      }),
      'apps.billing.rate.perSecond',
      /positive finite/,
    );
    rejects(
      edited((c) => {
        c.apps.billing.rate = { perSecond: 5 };
      }),
      'apps.billing.rate.burst',
      />= 1/,
    );
  });

  test('roles and grants', () => {
    rejects(
      edited((c) => {
        c.roles['a b'] = {};
      }),
      'roles.a b',
      /role name must be/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publsh = [];
      }),
      'roles.billing.publsh',
      /not a known setting/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publish = ['orders.>.x'];
      }),
      'roles.billing.publish[0]',
      /pattern "orders\.>\.x" uses ">" before the last token/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publish = ['orders..x'];
      }),
      'roles.billing.publish[0]',
      /empty token/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publish = ['orders.x*'];
      }),
      'roles.billing.publish[0]',
      /inside a token/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publish = ['apps.{App}.>'];
      }),
      'roles.billing.publish[0]',
      /whole "\{app\}" token/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publish = ['apps.x{app}.>'];
      }),
      'roles.billing.publish[0]',
      /whole "\{app\}" token/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publish = [7];
      }),
      'roles.billing.publish[0]',
      /must be an object, got a number/,
    );
    rejects(
      edited((c) => {
        c.roles.billing.publish = 'orders.>';
      }),
      'roles.billing.publish',
      /must be an array/,
    );
    rejects(
      edited((c) => {
        c.roles['camera-user'].subscribe[0].ask = 'yes';
      }),
      'roles.camera-user.subscribe[0].ask',
      /true or false/,
    );
    rejects(
      edited((c) => {
        c.roles['camera-user'].subscribe[0].asks = true;
      }),
      'roles.camera-user.subscribe[0].asks',
      /not a known setting/,
    );
    rejects(
      edited((c) => {
        delete c.roles['camera-user'].subscribe[0].pattern;
      }),
      'roles.camera-user.subscribe[0].pattern',
      /must be a string/,
    );
    rejects(
      edited((c) => {
        c.roles['orders-service'].deny = { publsh: ['x'] };
      }),
      'roles.orders-service.deny.publsh',
      /not a known setting/,
    );
    rejects(
      edited((c) => {
        c.roles['orders-service'].deny.publish = ['a.>.b'];
      }),
      'roles.orders-service.deny.publish[0]',
      /before the last token/,
    );
    rejects(
      edited((c) => {
        c.roles['orders-service'].deny.subscribe = [{ pattern: 'x' }];
      }),
      'roles.orders-service.deny.subscribe[0]',
      /must be a string/,
    );
  });

  test('origins', () => {
    const bad = (origin: unknown, problem: RegExp): void =>
      rejects(
        edited((c) => {
          c.origins = ['https://ok.example', origin];
        }),
        'origins[1]',
        problem,
      );
    bad('http://localhost:7071/', /must not end with "\/": an origin has no path \(use "http:\/\/localhost:7071"\)/);
    bad('http://localhost:7071/app', /must not have a path/);
    bad('http://localhost?x=1', /must not have a path, query or fragment/);
    bad('*', /wildcards are not allowed/);
    bad('localhost:7071', /is not an origin: expected scheme:\/\/host\[:port\] or "null"/);
    bad('http://user@host', /is not an origin/);
    bad('http://host:99999', /outside 1\.\.65535/);
    bad('http://host:0', /outside/);
    bad('http://exa mple.com', /is not an origin/);
    bad(null, /must be a string, got null/);
    rejects(
      edited((c) => {
        c.origins = 'http://localhost';
      }),
      'origins',
      /must be an array/,
    );
  });

  test('security', () => {
    const bad = (key: string, value: unknown, problem: RegExp): void =>
      rejects(
        edited((c) => {
          c.security[key] = value;
        }),
        `security.${key}`,
        problem,
      );
    for (const v of [0, -1, Infinity, null, 999, 3_600_001, 1500.5, '30000'])
      bad('maxClockSkewMs', v, /must be an integer from 1000 to 3600000/);
    for (const v of [0, 2 ** 24 + 1, null]) bad('rekeyAfterMessages', v, /integer from 1 to 16777216/);
    for (const v of [999, 86_400_001]) bad('rekeyAfterMs', v, /integer from 1000 to 86400000/);
    for (const v of [0, 86_400_001]) bad('consentTimeoutMs', v, /integer from 1000 to 86400000/);
    bad('encryption', 'off', /must be "required" or "preferred", got "off"/);
    bad('encryption', null, /got null/);
    bad('encrypt', 'required', /not a known setting/);
    rejects(
      edited((c) => {
        c.security.abuse.windowMs = 0;
      }),
      'security.abuse.windowMs',
      /integer/,
    );
    rejects(
      edited((c) => {
        c.security.abuse.violationsPerWindow = 0;
      }),
      'security.abuse.violationsPerWindow',
      /integer/,
    );
    rejects(
      edited((c) => {
        c.security.abuse.max = 1;
      }),
      'security.abuse.max',
      /not a known setting/,
    );
    rejects(
      edited((c) => {
        c.security = null;
      }),
      'security',
      /must be an object, got null/,
    );
  });

  test('limits', () => {
    for (const v of [0, -5, Infinity, NaN, '10', null])
      rejects(
        edited((c) => {
          c.limits.rate.perSecond = v;
        }),
        'limits.rate.perSecond',
        /positive finite number/,
      );
    for (const v of [0.5, Infinity])
      rejects(
        edited((c) => {
          c.limits.rate.burst = v;
        }),
        'limits.rate.burst',
        /finite number >= 1/,
      );
    rejects(
      edited((c) => {
        c.limits.rate = { perSecond: 10, burst: 10, extra: 1 };
      }),
      'limits.rate.extra',
      /not a known setting/,
    );
    rejects(
      edited((c) => {
        c.limits.topicRates[0].pattern = 'chat.>.x';
      }),
      'limits.topicRates[0].pattern',
      /before the last token/,
    );
    rejects(
      edited((c) => {
        c.limits.topicRates[0].pattern = 'apps.{app}.>';
      }),
      'limits.topicRates[0].pattern',
      /only roles may use/,
    );
    rejects(
      edited((c) => {
        c.limits.topicRates[0].burst = 0;
      }),
      'limits.topicRates[0].burst',
      />= 1/,
    );
    rejects(
      edited((c) => {
        c.limits.topicRate = [];
      }),
      'limits.topicRate',
      /not a known setting/,
    );
  });
});

describe('serializeHubConfig', () => {
  test('writes the file shape back; parsing it again gives the same config', () => {
    const cfg = parseHubConfig(example());
    const doc = serializeHubConfig(cfg);
    assert.deepEqual(doc.apps.orders, { secret: SECRET_A, roles: ['orders-service'] });
    assert.deepEqual(doc.apps.billing, {
      secrets: [{ id: 'k2', secret: SECRET_B, notBefore: '2026-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:00:00.000Z' }],
      roles: ['billing'],
      rate: { perSecond: 50, burst: 100 },
    });
    assert.deepEqual(doc.roles['camera-user'], { subscribe: [{ pattern: 'camera.>', ask: true }] });
    assert.deepEqual(doc.roles['orders-service']!.deny, { publish: ['orders.admin.>'] });
    assert.deepEqual(parseHubConfig(JSON.parse(JSON.stringify(doc))), cfg);
  });
});
