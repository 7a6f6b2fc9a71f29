/**
 * Layered configuration (issue 19, second part): crossbus `resolveSettings` vs `convict`, in
 * resolves per second. CPU only, in the bench process: no server, no file I/O on either side.
 *
 * Workload, the same on both sides: 500 settings (50 sections × 10 leaves: 3 integers with ranges,
 * 2 enums, 2 booleans, 2 strings, 1 http(s) URL), a default for each; four layers as plain objects
 * already in memory, global 200 settings, environment 100, project 50, user 20, overlapping in part
 * (see LAYER_SPANS); then 8 environment variables (strings, read as their setting's type) among 40
 * variables of an ordinary environment. Every setting can be named by an environment variable on
 * both sides (crossbus by its path, convict by the `env` each setting declares). The precedence is
 * the same: defaults < global < environment < project < user < variables.
 *
 * What one resolve is on each side:
 * - convict: `convict(schema, { env, args: [] })` (convict keeps the configuration in the instance
 *   and has no reset to the defaults, so a resolve needs a fresh instance: it normalises the
 *   schema, fills in the defaults and applies the variables), then `load(layer)` for each of the
 *   four (each load applies the variables again, as convict always does) and `validate({ allowed:
 *   'strict' })`, which checks every setting once and reports unknown keys. The resolved values
 *   stay in the instance (read with `get`); `getProperties()`, a deep copy, is left out.
 * - crossbus: the schema is read once (`defineSettings`, outside the clock: a resolution never
 *   changes it nor starts from anything but its defaults), then per resolve `settingsFromEnv` reads
 *   the variables into the `env` layer and `resolveSettings(..., { invalidLayer: 'fail' })` checks
 *   each of the five layers on its own (every value at its path, unknown keys reported), merges
 *   them into a new object without touching the inputs, validates the result whole and records
 *   which layer set each of the 500 settings (provenance, which convict does not keep).
 *
 * Before the clock: both sides must give the same 500 values, crossbus's sources must name the
 * layer the workload expects for each setting, and both must reject a layer with a value out of
 * range and one with an unknown key. Then a warm-up (WARMUP_RESOLVES each) and ROUNDS rounds of
 * `resolves` each, the side that goes first alternating; median and min–max of the rounds.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import convict from 'convict';
import { isCrossbusError } from '../src/core/errors/index.js';
import * as v from 'valibot';
import {
  choice,
  defineSettings,
  flag,
  httpUrl,
  resolveSettings,
  section,
  settingsFromEnv,
  text,
  whole,
  type LayerName,
  type SettingsSchema,
} from '../src/core/settings/index.js';
import { note } from './lib/procs.js';
import { errMsg, fmtInt } from './pubsub.js';

export type ResolveKey = 'crossbus-resolve' | 'convict';
export const RESOLVE_KEYS: readonly ResolveKey[] = ['crossbus-resolve', 'convict'];

const SECTIONS = 50;
const ROUNDS = 5;
const RESOLVES = 1_000;
const WARMUP_RESOLVES = 500;
/** Start no further round past this much time (the part should stay under about 20 s). */
const TIME_BUDGET_MS = 15_000;
const ENV_PREFIX = 'CROSSBUS_SETTINGS__';
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const TEXT_MAX = 4096;
const URL_MAX = 2048;

// ---------------------------------------------------------------------------------------------
// The 10 leaves of a section, declared for both sides

type Leaf = number | string | boolean;
type ConvictFormat = convict.SchemaObj['format'];

interface LeafSpec {
  readonly name: string;
  readonly crossbus: () => v.GenericSchema;
  /** convict's `format`: the same check as the crossbus field. */
  readonly convictFormat: ConvictFormat;
  /** A valid value, distinct per seed. */
  readonly value: (seed: number) => Leaf;
}

function integerSpec(name: string, min: number, max: number): LeafSpec {
  return {
    name,
    crossbus: () => whole(min, max),
    convictFormat: (x: unknown) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw new Error(`must be an integer from ${min} to ${max}`);
    },
    value: (seed) => min + (seed % (max - min + 1)),
  };
}

const isHttpUrl = (s: string): boolean => {
  if (!/^https?:\/\//i.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
};

function checkText(x: unknown): void {
  if (typeof x !== 'string' || x.length > TEXT_MAX) throw new Error(`must be a string of at most ${TEXT_MAX} characters`);
}

function checkHttpUrl(x: unknown): void {
  if (typeof x !== 'string' || x.length > URL_MAX || !isHttpUrl(x)) throw new Error('must be an http:// or https:// URL');
}

const LEAVES: readonly LeafSpec[] = [
  integerSpec('port', 1, 65_535),
  integerSpec('maxItems', 0, 1_000_000),
  integerSpec('timeoutMs', 100, 86_400_000),
  { name: 'logLevel', crossbus: () => choice(LEVELS), convictFormat: [...LEVELS], value: (s) => LEVELS[s % LEVELS.length] as string },
  {
    name: 'mode',
    crossbus: () => choice(['off', 'on', 'auto']),
    convictFormat: ['off', 'on', 'auto'],
    value: (s) => ['off', 'on', 'auto'][s % 3] as string,
  },
  { name: 'enabled', crossbus: () => flag(), convictFormat: Boolean, value: (s) => s % 2 === 0 },
  { name: 'verbose', crossbus: () => flag(), convictFormat: Boolean, value: (s) => s % 3 === 0 },
  { name: 'label', crossbus: () => text(), convictFormat: checkText, value: (s) => `label ${s}` },
  { name: 'region', crossbus: () => text(), convictFormat: checkText, value: (s) => `eu-west-${s % 7}` },
  { name: 'endpoint', crossbus: () => httpUrl(), convictFormat: checkHttpUrl, value: (s) => `https://svc${s}.example.com:8443/api` },
];

const sectionName = (s: number): string => `section${String(s).padStart(2, '0')}`;
/** Setting i (0..499) ↔ section i / 10, leaf i % 10. */
const pathOf = (i: number): [string, string] => [sectionName(Math.floor(i / LEAVES.length)), (LEAVES[i % LEAVES.length] as LeafSpec).name];
const envNameOf = (i: number): string => {
  const [s, leaf] = pathOf(i);
  return `${ENV_PREFIX}${s.toUpperCase()}__${leaf.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
};

// ---------------------------------------------------------------------------------------------
// The layers

const SETTINGS = SECTIONS * LEAVES.length;
/** Settings in a shuffled order (7 and 500 share no factor), so that each layer spans every section and type. */
const ORDER = Array.from({ length: SETTINGS }, (_, i) => (i * 7 + 3) % SETTINGS);
/** Each layer sets ORDER[from, to): 200, 100, 50 and 20 settings, each overlapping the one below. */
const LAYER_SPANS: readonly (readonly [LayerName, number, number])[] = [
  ['global', 0, 200],
  ['environment', 150, 250],
  ['project', 230, 280],
  ['user', 270, 290],
];
/** Settings the variables override (some also set by layers, some not). */
const ENV_SETTINGS = [ORDER[5], ORDER[160], ORDER[240], ORDER[275], ORDER[285], ORDER[300], ORDER[400], ORDER[499]] as number[];

interface Workload {
  readonly layers: Readonly<Record<'global' | 'environment' | 'project' | 'user', Record<string, Record<string, Leaf>>>>;
  /** An environment: the settings variables and 32 others. */
  readonly env: Readonly<Record<string, string>>;
  /** The value and the source each setting should resolve to, by dotted path. */
  readonly expected: ReadonlyMap<string, { value: Leaf; source: string }>;
  readonly crossbus: SettingsSchema;
  readonly convictSchema: Record<string, Record<string, { default: Leaf; format: ConvictFormat; env: string }>>;
}

function makeWorkload(): Workload {
  const expected = new Map<string, { value: Leaf; source: string }>();
  const crossbusSections: Record<string, v.GenericSchema> = {};
  const convictSchema: Workload['convictSchema'] = {};
  for (let s = 0; s < SECTIONS; s++) {
    const entries: Record<string, v.GenericSchema> = {};
    const convictSection: Record<string, { default: Leaf; format: ConvictFormat; env: string }> = {};
    for (let l = 0; l < LEAVES.length; l++) {
      const spec = LEAVES[l] as LeafSpec;
      const i = s * LEAVES.length + l;
      const value = spec.value(i);
      entries[spec.name] = v.optional(spec.crossbus(), value as never);
      convictSection[spec.name] = { default: value, format: spec.convictFormat, env: envNameOf(i) };
      expected.set(pathOf(i).join('.'), { value, source: 'default' });
    }
    crossbusSections[sectionName(s)] = v.optional(section(entries), {});
    convictSchema[sectionName(s)] = convictSection;
  }
  const layers: Record<string, Record<string, Record<string, Leaf>>> = {};
  LAYER_SPANS.forEach(([name, from, to], rank) => {
    const layer: Record<string, Record<string, Leaf>> = {};
    for (const i of ORDER.slice(from, to)) {
      const [s, leaf] = pathOf(i);
      const value = (LEAVES[i % LEAVES.length] as LeafSpec).value(i * 13 + 1_000 * (rank + 1));
      layer[s] ??= {};
      (layer[s] as Record<string, Leaf>)[leaf] = value;
      expected.set(`${s}.${leaf}`, { value, source: name });
    }
    layers[name] = layer;
  });
  const env: Record<string, string> = {};
  for (let n = 0; n < 32; n++) env[`UNRELATED_${n}`] = `value ${n}`;
  for (const i of ENV_SETTINGS) {
    const value = (LEAVES[i % LEAVES.length] as LeafSpec).value(i * 17 + 9_999);
    env[envNameOf(i)] = String(value);
    expected.set(pathOf(i).join('.'), { value, source: 'env' });
  }
  return {
    layers: layers as Workload['layers'],
    env,
    expected,
    crossbus: defineSettings(section(crossbusSections)),
    convictSchema,
  };
}

// ---------------------------------------------------------------------------------------------
// One resolve on each side

function resolveCrossbus(w: Workload, layers: Workload['layers'] = w.layers) {
  const env = settingsFromEnv(w.crossbus, w.env);
  return resolveSettings(w.crossbus, { ...layers, env }, { invalidLayer: 'fail' });
}

function resolveConvict(w: Workload, layers: Workload['layers'] = w.layers) {
  const config = convict(w.convictSchema, { env: w.env, args: [] });
  config.load(layers.global);
  config.load(layers.environment);
  config.load(layers.project);
  config.load(layers.user);
  config.validate({ allowed: 'strict' });
  return config;
}

/** Both sides give the expected values (crossbus also the expected sources), and both reject bad layers. */
function verify(w: Workload): void {
  const r = resolveCrossbus(w);
  const c = resolveConvict(w);
  const fromConvict = c.getProperties() as Record<string, Record<string, Leaf>>;
  assert.deepStrictEqual(r.value, fromConvict, 'crossbus and convict resolve to different values');
  for (const [path, want] of w.expected) {
    const [s, leaf] = path.split('.') as [string, string];
    assert.deepStrictEqual((r.value as Record<string, Record<string, Leaf>>)[s]?.[leaf], want.value, `value of ${path}`);
    assert.equal(r.sources.get(path), want.source, `source of ${path}`);
  }
  assert.equal(r.sources.size, SETTINGS);
  const [s, leaf] = pathOf(ORDER[272] as number);
  const outOfRange = { ...w.layers, user: { ...w.layers.user, [s]: { ...w.layers.user[s], [leaf]: -1 } } };
  const unknownKey = { ...w.layers, project: { ...w.layers.project, section07: { nosuchSetting: 1 } } };
  for (const [what, layers] of [
    ['a value out of range', outOfRange],
    ['an unknown key', unknownKey],
  ] as const) {
    assert.throws(
      () => resolveCrossbus(w, layers),
      (e) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'),
      `crossbus accepted ${what}`,
    );
    assert.throws(() => resolveConvict(w, layers), Error, `convict accepted ${what}`);
  }
}

/** Resolves per second over `count` resolves. */
function timeResolves(count: number, resolveOnce: () => unknown): number {
  const t0 = performance.now();
  for (let n = 0; n < count; n++) resolveOnce();
  const seconds = (performance.now() - t0) / 1000;
  return seconds > 0 ? count / seconds : 0;
}

export interface ResolveResult {
  /** Resolves per second, one per round, by key (only the keys wanted). */
  readonly rates: Map<ResolveKey, number[]>;
  readonly failed: Map<ResolveKey, string>;
  readonly resolves: number;
  readonly skipped: string[];
}

/** Runs the wanted sides; never throws (a failure is recorded against both keys). */
export function runResolveVsConvict(wanted: ReadonlySet<string>, scale = 1): ResolveResult {
  const keys = RESOLVE_KEYS.filter((k) => wanted.has(k));
  const resolves = Math.max(100, Math.round(RESOLVES * scale));
  const result: ResolveResult = { rates: new Map(), failed: new Map(), resolves, skipped: [] };
  if (keys.length === 0) return result;
  try {
    const w = makeWorkload();
    verify(w);
    note(
      `kv: resolve: both sides give the same ${fmtInt(SETTINGS)} values; warm-up ${fmtInt(Math.round(WARMUP_RESOLVES * Math.min(1, scale)))} resolves each`,
    );
    const sides: [ResolveKey, () => unknown][] = [
      ['crossbus-resolve', () => resolveCrossbus(w)],
      ['convict', () => resolveConvict(w)],
    ];
    const run = sides.filter(([k]) => wanted.has(k));
    for (const [, once] of run) timeResolves(Math.max(100, Math.round(WARMUP_RESOLVES * Math.min(1, scale))), once);
    const startedAt = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0 && performance.now() - startedAt > TIME_BUDGET_MS) {
        result.skipped.push(`resolve rounds ${round + 1}–${ROUNDS} skipped (time budget)`);
        break;
      }
      for (const [key, once] of round % 2 === 0 ? run : [...run].reverse()) {
        const rate = timeResolves(resolves, once);
        result.rates.set(key, [...(result.rates.get(key) ?? []), rate]);
        note(`kv: ${key} round ${round + 1}/${ROUNDS}: ${fmtInt(rate)} resolves/s`);
      }
    }
  } catch (err) {
    for (const k of keys) result.failed.set(k, errMsg(err));
    note(`kv: resolve FAILED: ${errMsg(err)}`);
  }
  return result;
}
