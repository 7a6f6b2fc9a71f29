import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { policyForApp } from '../../src/core/security/app-policy.js';
import { GrantCheck } from '../../src/core/security/grant-check.js';
import { POLICY_CACHE_LIMIT, patternCovers, patternsOverlap, type AccessDecision, type Action } from '../../src/core/security/policy.js';

const secret = (n: number): string => Buffer.alloc(32, n).toString('base64');

const config = parseHubConfig({
  apps: {
    orders: { secret: secret(1), roles: ['orders-service'] },
    billing: { secret: secret(2), roles: ['billing'] },
    camera: { secret: secret(3), roles: ['camera-user'] },
    kiosk: { secret: secret(4), roles: ['camera-user', 'front-door'] },
    auditor: { secret: secret(5), roles: ['everything', 'no-secrets'] },
    vault: { secret: secret(7), roles: ['vault'] },
    nobody: { secret: secret(6) },
  },
  roles: {
    'orders-service': {
      publish: ['orders.>'],
      subscribe: ['orders.>', 'apps.{app}.>'],
      request: ['billing.*'],
      deny: { publish: ['orders.admin.>'] },
    },
    vault: { subscribe: ['vault.>', 'apps.{app}.>'], deny: { subscribe: ['vault.secret.>', 'apps.{app}.private'] } },
    billing: { subscribe: ['billing.>', 'apps.{app}.>'], publish: ['apps.{app}.out'] },
    'camera-user': { subscribe: [{ pattern: 'camera.>', ask: true }], publish: [{ pattern: 'camera.cmd.*', ask: true }] },
    'front-door': { subscribe: ['camera.front'] },
    everything: { publish: ['>'], subscribe: ['>'], request: ['>'] },
    'no-secrets': { deny: { publish: ['secrets.>'], subscribe: ['secrets.>'], request: ['secrets.>'] } },
  },
});

const orders = policyForApp(config, 'orders');

function allowed(d: AccessDecision, rule: string, ask = false): void {
  assert.deepEqual(d, { allowed: true, ask, rule });
}
function denied(d: AccessDecision, reason: string | RegExp, rule?: string): void {
  assert.equal(d.allowed, false, `expected a refusal, got ${JSON.stringify(d)}`);
  if (d.allowed) return;
  assert.equal(d.code, 'CB_ERR_FORBIDDEN');
  if (typeof reason === 'string') assert.equal(d.reason, reason);
  else assert.match(d.reason, reason);
  assert.equal(d.rule, rule);
}

describe('pattern algebra (examples; the property test covers the rest)', () => {
  test('patternCovers', () => {
    assert.equal(patternCovers('orders.>', 'orders.*.x'), true);
    assert.equal(patternCovers('orders.>', '>'), false);
    assert.equal(patternCovers('orders.*', 'orders.>'), false);
    assert.equal(patternCovers('a.>', 'a.b.>'), true);
    assert.equal(patternCovers('*.b', '>'), false);
    assert.equal(patternCovers('a.>', 'a'), false);
    assert.equal(patternCovers('a.b', 'a.*'), false);
    assert.equal(patternCovers('>', 'a.*.>'), true);
    assert.equal(patternCovers('a.*', 'a.b'), true);
  });
  test('patternsOverlap', () => {
    assert.equal(patternsOverlap('orders.>', 'orders.admin.>'), true);
    assert.equal(patternsOverlap('a.*', 'a.b.c'), false);
    assert.equal(patternsOverlap('*.b', 'a.*'), true);
    assert.equal(patternsOverlap('a.>', 'a'), false);
    assert.equal(patternsOverlap('>', 'x.y.z'), true);
    assert.equal(patternsOverlap('a.b', 'a.c'), false);
  });
});

describe('AccessPolicy: publish and request on literal topics', () => {
  test('a grant allows; the rule is named', () => {
    allowed(orders.check('publish', 'orders.created'), 'orders.>');
    allowed(orders.check('publish', 'orders.eu.created.v2'), 'orders.>');
    allowed(orders.check('request', 'billing.charge'), 'billing.*');
  });
  test('deny wins over a grant', () => {
    denied(orders.check('publish', 'orders.admin.x'), 'publish "orders.admin.x" is denied by "orders.admin.>"', 'orders.admin.>');
    denied(orders.check('publish', 'orders.admin.x.y'), /denied by "orders\.admin\.>"/, 'orders.admin.>');
    allowed(orders.check('publish', 'orders.admin'), 'orders.>'); // orders.admin.> needs one more token
  });
  test('deny in one role wins over a grant in another', () => {
    const auditor = policyForApp(config, 'auditor');
    allowed(auditor.check('publish', 'anything.at.all'), '>');
    denied(auditor.check('request', 'secrets.db'), 'request "secrets.db" is denied by "secrets.>"', 'secrets.>');
    denied(auditor.check('subscribe', '>'), /is denied by "secrets\.>"/, 'secrets.>');
    allowed(auditor.check('subscribe', 'public.>'), '>');
  });
  test('no grant: refused, listing the grants', () => {
    denied(orders.check('publish', 'billing.x'), 'publish "billing.x" matches no grant (orders.>)');
    denied(orders.check('publish', 'orders'), /matches no grant/);
    denied(orders.check('request', 'billing.a.b'), 'request "billing.a.b" matches no grant (billing.*)');
    denied(policyForApp(config, 'billing').check('request', 'x'), 'request "x" matches no grant (this app has no request grants)');
    denied(policyForApp(config, 'nobody').check('publish', 'x'), /no publish grants/);
  });
  test('{app} is replaced by the app name', () => {
    const billing = policyForApp(config, 'billing');
    allowed(billing.check('publish', 'apps.billing.out'), 'apps.billing.out');
    denied(billing.check('publish', 'apps.orders.out'), /matches no grant \(apps\.billing\.out\)/);
    denied(billing.check('publish', 'apps.{app}.out'), /matches no grant/);
  });
  test('invalid topics and actions are refused, not matched', () => {
    denied(orders.check('publish', 'orders.*'), /publish "orders\.\*" is refused: the topic contains a wildcard/);
    denied(orders.check('publish', 'orders..x'), /is refused: the topic has an empty token/);
    denied(orders.check('publish', ''), /is refused: the topic is empty/);
    denied(orders.check('constructor' as Action, 'orders.x'), /is not an action/);
    denied(orders.check('publish', 42 as unknown as string), /needs a topic string/);
  });
});

describe('AccessPolicy: subscribe on patterns', () => {
  test('a pattern inside a grant is allowed', () => {
    allowed(orders.check('subscribe', 'orders.created'), 'orders.>');
    allowed(orders.check('subscribe', 'orders.*.x'), 'orders.>');
    allowed(orders.check('subscribe', 'orders.public.>'), 'orders.>');
    allowed(orders.check('subscribe', 'apps.orders.>'), 'apps.orders.>');
    allowed(orders.check('subscribe', 'apps.orders.inbox.*'), 'apps.orders.>');
  });
  test('a pattern wider than every grant is refused, never narrowed', () => {
    denied(orders.check('subscribe', '>'), 'subscribe ">" is wider than every grant (orders.>, apps.orders.>)');
    denied(orders.check('subscribe', 'apps.*.>'), /is wider than every grant/);
    denied(orders.check('subscribe', '*.created'), /is wider than every grant/);
    denied(orders.check('subscribe', 'apps.billing.>'), 'subscribe "apps.billing.>" matches no grant (orders.>, apps.orders.>)');
  });
  test('a pattern that overlaps a deny is refused, even when a grant covers it', () => {
    const vault = policyForApp(config, 'vault');
    denied(
      vault.check('subscribe', 'vault.>'),
      'subscribe "vault.>" is denied by "vault.secret.>" (it would receive topics that rule denies)',
      'vault.secret.>',
    );
    denied(vault.check('subscribe', 'vault.*.x'), /denied by "vault\.secret\.>"/, 'vault.secret.>');
    denied(vault.check('subscribe', 'vault.secret.key'), /denied by "vault\.secret\.>"/, 'vault.secret.>');
    denied(vault.check('subscribe', 'apps.vault.*'), /denied by "apps\.vault\.private"/, 'apps.vault.private');
    allowed(vault.check('subscribe', 'vault.public.>'), 'vault.>');
    allowed(vault.check('subscribe', 'vault.secret'), 'vault.>'); // vault.secret.> needs one more token
    allowed(vault.check('subscribe', 'apps.vault.public'), 'apps.vault.>');
  });
  test('invalid patterns are refused', () => {
    denied(orders.check('subscribe', 'orders.>.x'), /is refused: the pattern uses ">" before the last token/);
  });
});

describe('AccessPolicy: ask', () => {
  test('allowed with ask when only ask grants allow it', () => {
    const camera = policyForApp(config, 'camera');
    allowed(camera.check('subscribe', 'camera.front'), 'camera.>', true);
    allowed(camera.check('subscribe', 'camera.>'), 'camera.>', true);
    allowed(camera.check('publish', 'camera.cmd.zoom'), 'camera.cmd.*', true);
    denied(camera.check('subscribe', '>'), /wider than every grant \(camera\.>\)/);
  });
  test('a plain grant wins over an ask one', () => {
    const kiosk = policyForApp(config, 'kiosk');
    allowed(kiosk.check('subscribe', 'camera.front'), 'camera.front', false);
    allowed(kiosk.check('subscribe', 'camera.back'), 'camera.>', true);
  });
});

describe('AccessPolicy: construction, summary, cache', () => {
  test('an unknown app fails authentication', () => {
    for (const app of ['ghost', 'constructor', '__proto__', 'toString']) {
      assert.throws(
        () => policyForApp(config, app),
        (e: unknown) => isCrossbusError(e, 'CB_ERR_AUTH_FAILED'),
      );
    }
  });
  test("grants() is plain data; the client's GrantCheck allows and refuses as the hub does", () => {
    const g = policyForApp(config, 'orders').grants();
    assert.deepEqual(g, {
      publish: ['orders.>'],
      subscribe: ['orders.>', 'apps.orders.>'],
      request: ['billing.*'],
      deny: { publish: ['orders.admin.>'], subscribe: [], request: [] },
      ask: { publish: [], subscribe: [], request: [] },
    });
    assert.deepEqual(policyForApp(config, 'kiosk').grants(), {
      publish: [],
      subscribe: ['camera.front'],
      request: [],
      deny: { publish: [], subscribe: [], request: [] },
      ask: { publish: ['camera.cmd.*'], subscribe: ['camera.>'], request: [] },
    });
    const cases: Array<[Action, string]> = [
      ['publish', 'orders.x'],
      ['publish', 'orders.admin.x'],
      ['publish', 'billing.x'],
      ['request', 'billing.x'],
      ['subscribe', '>'],
      ['subscribe', 'orders.>'],
      ['subscribe', 'apps.orders.x'],
      ['subscribe', 'camera.front'],
      ['publish', 'camera.cmd.x'],
      ['subscribe', 'vault.>'],
      ['subscribe', 'vault.a'],
      ['request', 'secrets.x'],
    ];
    for (const app of ['orders', 'kiosk', 'auditor', 'vault']) {
      const hub = policyForApp(config, app);
      const client = new GrantCheck(JSON.parse(JSON.stringify(hub.grants())));
      for (const [action, topic] of cases) {
        const d = hub.check(action, topic);
        const refusal = client.refusal(action, topic);
        assert.equal(refusal === '', d.allowed, `${app} ${action} ${topic}: ${refusal}`);
        // A refusal names the deny rule the hub names.
        if (!d.allowed && d.rule !== undefined) assert.match(refusal, new RegExp(`denied by "${d.rule.replace(/[.*>]/g, '\\$&')}"`));
      }
    }
  });
  test('GrantCheck words its refusals and stays right past its cache bound', () => {
    const client = new GrantCheck(orders.grants());
    assert.equal(client.refusal('publish', 'billing.x'), 'it matches no grant (grants: "orders.>")');
    assert.equal(client.refusal('publish', 'orders.admin.reset'), 'it is denied by "orders.admin.>"');
    assert.equal(client.refusal('subscribe', '>'), 'it is wider than every grant (grants: "orders.>", "apps.orders.>")');
    assert.equal(client.refusal('subscribe', 'orders..x'), 'the pattern has an empty token');
    assert.equal(client.refusal('request', 'secrets.x'), 'it matches no grant (grants: "billing.*")');
    for (let i = 0; i < 2500; i++)
      assert.equal(client.refusal('publish', i % 2 === 0 ? `orders.n${i}` : `orders.admin.n${i}`) === '', i % 2 === 0);
    assert.equal(client.refusal('publish', 'orders.created'), '');
  });
  test('GrantCheck refuses malformed summaries', () => {
    const good = orders.grants();
    for (const bad of [
      null,
      {},
      { ...good, publish: 'x' },
      { ...good, deny: null },
      { ...good, ask: { ...good.ask, subscribe: ['a.>.b'] } },
      { ...good, request: [1] },
    ]) {
      assert.throws(
        () => new GrantCheck(bad as never),
        (e: unknown) => isCrossbusError(e, 'CB_ERR_PROTOCOL'),
      );
    }
  });
  test('decisions are cached, frozen, and stay right past the cache bound', () => {
    const p = policyForApp(config, 'orders');
    const first = p.check('publish', 'orders.created');
    assert.equal(p.check('publish', 'orders.created'), first);
    assert.ok(Object.isFrozen(first));
    for (let i = 0; i < POLICY_CACHE_LIMIT + 10; i++) {
      const d = p.check('publish', i % 2 === 0 ? `orders.n${i}` : `orders.admin.n${i}`);
      assert.equal(d.allowed, i % 2 === 0);
    }
    allowed(p.check('publish', 'orders.created'), 'orders.>');
    const long = `orders.${'x'.repeat(300)}`;
    allowed(p.check('publish', long), 'orders.>');
  });
});
