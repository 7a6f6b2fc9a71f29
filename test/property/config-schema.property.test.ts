import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHubConfig, serializeHubConfig } from '../../src/core/config/schema.js';
import { ConfigError, isCrossbusError } from '../../src/core/errors/index.js';

/**
 * The hub config schema on documents broken in arbitrary places: every problem is reported by
 * one of the config's own rules (never valibot's default text, which quotes the value, nor the
 * parser's fallback), at a path the message starts with, without a secret in it; the input is
 * never touched; and whatever parses, serializes back to an equal config.
 */
const seed = Number(process.env.FC_SEED ?? 20261122);
const params = { seed, numRuns: 2000, verbose: 1 as const };

const SECRETS = [Buffer.alloc(32, 1), Buffer.alloc(48, 2), Buffer.alloc(40, 3)].map((b) => b.toString('base64'));

function example(): Record<string, unknown> {
  return {
    apps: {
      orders: { secret: SECRETS[0], roles: ['orders-service'], origins: ['https://orders.example'] },
      billing: {
        secrets: [
          { id: 'k2', secret: SECRETS[1], notBefore: '2026-01-01T00:00:00Z', expiresAt: '2027-01-01T00:00:00Z' },
          { id: 'k3', secret: SECRETS[2] },
        ],
        roles: ['billing', 'camera-user'],
        rate: { perSecond: 50, burst: 100 },
      },
      web: { origins: ['http://localhost:7071'], roles: [] },
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
    origins: ['http://localhost:7071', 'null'],
    limits: { rate: { perSecond: 1000, burst: 2000 }, topicRates: [{ pattern: 'chat.>', perSecond: 10, burst: 20 }] },
    security: { encryption: 'preferred', integrityAlgorithms: ['hmac-sha256'], maxClockSkewMs: 30000, abuse: { windowMs: 10000 } },
  };
}

type Path = Array<string | number>;
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length > 0) out.push(at);
  if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) paths(x, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

/** Values that come close to valid ones, and arbitrary JSON. No secret as a bare string: in a field that is not a secret, quoting it is right. */
const value = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    0,
    -1,
    1.5,
    999,
    1000,
    2 ** 24 + 1,
    '',
    'x',
    'a.>.b',
    'apps.{App}',
    true,
    [],
    {},
    ['x'],
    ['billing', 'billing'],
    ['nope'],
    'AAAA',
    'not base64!!',
    '2026-01-01',
    '2025-01-01T00:00:00Z',
    'required',
    'off',
    ['md5'],
    ['hmac-sha256', 'hmac-sha256'],
    'http://a.example/',
    '*',
    'http://u@h',
    'http://h:0',
    'HTTP://A.example:80',
    { pattern: 'x', ask: 'yes' },
    { id: 'k2', secret: SECRETS[2] },
    { perSecond: 5 },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Up to three edits: replace a value, delete a key, add an unknown key. */
const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'add'), value });

function apply(doc: Record<string, unknown>, edits: Array<{ at: number; op: string; value: unknown }>): Record<string, unknown> {
  for (const e of edits) {
    const all = paths(doc);
    if (all.length === 0) break;
    const path = all[e.at % all.length]!;
    let parent = doc as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (e.op === 'delete' && !Array.isArray(parent)) delete parent[last];
    else if (e.op === 'add' && !Array.isArray(parent)) parent[`extra${e.at % 3}`] = e.value;
    else parent[last] = structuredClone(e.value);
  }
  return doc;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

test('every problem in a broken document is named by a rule, at its path, without a secret; the input is never touched', () => {
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      const raw = deepFreeze(apply(example(), edits));
      const before = JSON.stringify(raw);
      let parsed: ReturnType<typeof parseHubConfig> | undefined;
      try {
        parsed = parseHubConfig(raw, 'crossbus.config.json');
      } catch (err) {
        assert.ok(err instanceof ConfigError && isCrossbusError(err, 'CB_ERR_CONFIG_INVALID'), String(err));
        const problems = err.details?.problems as Array<{ path: string; message: string }>;
        assert.ok(problems.length >= 1, err.message);
        assert.equal(err.details?.path, problems[0]?.path);
        assert.equal(err.details?.source, 'crossbus.config.json');
        // One problem: `file: path: message`; several: a count, then `  path: message` per line.
        const lines =
          problems.length === 1
            ? [err.message.slice('crossbus.config.json: '.length)]
            : err.message
                .split('\n')
                .slice(1)
                .map((l) => l.slice(2));
        if (problems.length > 1) assert.equal(err.message.split('\n')[0], `crossbus.config.json: ${problems.length} problems:`);
        assert.equal(lines.length, problems.length, err.message);
        problems.forEach((p, i) => {
          assert.equal(lines[i], `${p.path}: ${p.message}`);
          assert.doesNotMatch(p.message, /^is invalid$|Invalid |Expected |Received /, err.message);
        });
        for (const s of SECRETS) assert.ok(!err.message.includes(s.slice(0, 12)), err.message);
      }
      assert.equal(JSON.stringify(raw), before);
      if (parsed !== undefined) assert.deepEqual(parseHubConfig(JSON.parse(JSON.stringify(serializeHubConfig(parsed)))), parsed);
    }),
    params,
  );
});
