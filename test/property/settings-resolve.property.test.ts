/**
 * resolveSettings against a naive reference: the defaults, then each layer deep-merged in
 * precedence order (plain objects key by key, anything else replaced), and each leaf's source the
 * last layer that set it. The same whatever keys are set in which layers, and whatever order the
 * layers are given in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ENVIRONMENT_SETTINGS as S, LAYER_NAMES, resolveSettings, type LayerName } from '../../src/core/settings/index.js';

const seed = Number(process.env.FC_SEED ?? 20261203);
const params = { seed, numRuns: 300, verbose: 1 as const };

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

function reference(layers: Partial<Record<LayerName, Json>>): { value: Json; sources: Map<string, string> } {
  const sources = new Map<string, string>();
  const merge = (base: unknown, top: Json, layer: string, path: string): Json => {
    const out: Json = isObject(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(top)) {
      const at = path === '' ? k : `${path}.${k}`;
      if (isObject(v)) out[k] = merge(out[k], v, layer, at);
      else {
        out[k] = v;
        sources.set(at, layer);
      }
    }
    return out;
  };
  let value: Json = structuredClone(S.defaults) as Json;
  for (const name of LAYER_NAMES) {
    const layer = layers[name];
    if (layer !== undefined) value = merge(value, layer, name, '');
  }
  const defaults = (v: unknown, path: string): void => {
    for (const [k, x] of Object.entries(v as Json)) {
      const at = path === '' ? k : `${path}.${k}`;
      if (isObject(x)) defaults(x, at);
      else if (x !== undefined && !sources.has(at)) sources.set(at, 'default');
    }
  };
  defaults(value, '');
  return { value, sources };
}

const featureName = fc.constantFrom('a', 'b', 'beta', 'dark-mode', 'x_1');
const layer: fc.Arbitrary<Json> = fc.record(
  {
    environment: fc.constantFrom('development', 'staging', 'testing', 'production'),
    logLevel: fc.constantFrom('debug', 'info', 'warn', 'error'),
    syncInterval: fc.integer({ min: 100, max: 86_400_000 }),
    apiKey: fc.string({ maxLength: 8 }),
    features: fc.dictionary(featureName, fc.boolean(), { maxKeys: 4 }),
    limits: fc.record(
      {
        maxFileSize: fc.integer({ min: 1, max: 2 ** 40 }),
        maxConnections: fc.integer({ min: 1, max: 100_000 }),
        syncTimeout: fc.integer({ min: 100, max: 86_400_000 }),
      },
      { requiredKeys: [] },
    ),
    security: fc.record({ encryptionEnabled: fc.boolean(), rateLimit: fc.integer({ min: 1, max: 1_000_000 }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const layers = fc.record(Object.fromEntries(LAYER_NAMES.map((n) => [n, layer])) as Record<LayerName, fc.Arbitrary<Json>>, {
  requiredKeys: [],
});

test(`resolution equals a naive deep merge, in any order given (seed ${seed})`, () => {
  fc.assert(
    fc.property(layers, fc.infiniteStream(fc.nat()), (given, shuffle) => {
      const expected = reference(given);
      const r = resolveSettings(S, given);
      assert.deepEqual(r.value, expected.value);
      assert.deepEqual(new Map([...r.sources].sort()), new Map([...expected.sources].sort()));
      // The same layers given in another order resolve the same.
      const names = Object.keys(given) as LayerName[];
      const it = shuffle[Symbol.iterator]();
      const order = names.map((n) => [n, it.next().value as number] as const).sort((x, y) => x[1] - y[1]);
      const again = resolveSettings(S, Object.fromEntries(order.map(([n]) => [n, given[n]])));
      assert.deepEqual(again.value, r.value);
      assert.deepEqual([...again.sources], [...r.sources]);
    }),
    params,
  );
});
