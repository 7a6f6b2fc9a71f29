/**
 * `crossbus config get|set|unset|diff|history|rollback|explain|validate`: environment
 * configuration through the hub's settings service. Layers: global < environment < project <
 * user; `--layer` picks the one a write changes (default: the environment's). Secrets are
 * redacted unless `--reveal` is given and the app may reveal them. Exit codes: 0 ok, 1 refused
 * or invalid (the CB_ERR_ code and the paths are printed), 2 usage error.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { SettingsAdmin } from '../../client/settings/admin.js';
import type { SyncingBus } from '../../client/sync/syncing-bus.js';
import { createError } from '../../core/errors/index.js';
import { diffSettings, type SettingsChange } from '../../core/settings/diff.js';
import { ENVIRONMENT_SETTINGS } from '../../core/settings/environment-schema.js';
import { checkLayer } from '../../core/settings/layers.js';
import { getSetting } from '../../core/settings/paths.js';
import { explainSetting, resolveSettings, type Resolution } from '../../core/settings/resolve.js';
import { isPlainObject, type SettingsLayer } from '../../core/settings/settings-schema.js';
import { checkEnv, type SettingsScope, type SettingsTarget } from '../../core/settings/settings-wire.js';
import { HUB_SETTINGS_TOPICS } from '../../core/settings/hub-overlay-service.js';
import type { ClientFlags } from '../client-connection.js';
import { defineOptions, pickOptions, type OptionValues } from '../options.js';
import { parseData } from '../payload-json.js';
import { CONNECTION_OPTIONS, optionSections, parseSubcommand, usageError, withClient, type StreamIo, type Subcommand } from './streams.js';
import { StreamUsageError, isoTime, parseSeqFlag, table } from './streams-format.js';

export type OpenConfigClient = (flags: ClientFlags) => Promise<SyncingBus>;

const CONFIG_OPTIONS = defineOptions({
  env: { type: 'string', description: 'the environment: development, staging, testing or production' },
  project: { type: 'string', description: 'the project (its layer is above the environment)' },
  user: { type: 'string', description: 'the user (the top stored layer)' },
  layer: { type: 'string', description: 'set, unset, history, rollback: global, environment, project or user', default: 'environment' },
  file: { type: 'string', description: 'set, validate: a layer file (YAML or JSON) to store whole or check' },
  against: { type: 'string', description: 'diff: the other environment' },
  expect: { type: 'string', description: 'set, unset: only when this is the layer version in force' },
  reveal: { type: 'boolean', description: 'show secrets in clear (needs a grant on $SYS.REQ.SETTINGS.REVEAL)' },
  json: { type: 'boolean', description: 'print JSON' },
  hub: { type: 'boolean', description: "get, set, unset, history, rollback: the hub's own limits and roles (applied at once)" },
});

export const CONFIG_HELP = `Usage:
  crossbus config get [path] --env <name> [--project p] [--user u] [--reveal] [--json]
                                          the resolved configuration (or one setting)
  crossbus config set <path> <value> --env <name> [--layer environment|global|project|user]
  crossbus config set --file layer.yaml --env <name> [--layer ...]   replace a layer whole
  crossbus config unset <path> --env <name> [--layer ...]
  crossbus config diff --env <name> --against <name>    what differs between two environments
  crossbus config history --env <name> [--layer ...] [--json]   versions: author, time, changes
  crossbus config rollback <version> --env <name> [--layer ...]  make a version the newest again
  crossbus config explain <path> --env <name> [--project p] [--user u]   which layer set it
  crossbus config validate --file layer.yaml   check a layer file (no hub needed)
  crossbus config validate --env <name>        check the stored layers of an environment
  crossbus config set limits.rate.perSecond 500 --hub     the hub's own limits and roles: checked as
  crossbus config get|unset|history|rollback ... --hub    a config reload, applied without a restart

Layers, lowest first: global < environment < project < user (then an app's CROSSBUS_SETTINGS__*
variables and flags). A value is JSON when it parses as JSON, else text. Secrets are stored
encrypted and shown as [redacted].

${optionSections(CONFIG_OPTIONS)}`;

const o = (...names: Array<keyof typeof CONFIG_OPTIONS>) => ({ ...pickOptions(CONFIG_OPTIONS, names), ...CONNECTION_OPTIONS });
const WHO = ['env', 'project', 'user'] as const;
const CONFIG_SUBS: Record<string, Subcommand> = {
  get: { args: 0, optionalArgs: 1, argsUsage: '[path]', options: o(...WHO, 'reveal', 'json', 'hub') },
  set: { args: 0, optionalArgs: 2, argsUsage: '<path> <value> (or --file)', options: o(...WHO, 'layer', 'file', 'expect', 'json', 'hub') },
  unset: { args: 1, argsUsage: '<path>', options: o(...WHO, 'layer', 'expect', 'json', 'hub') },
  diff: { args: 0, options: o(...WHO, 'against', 'reveal', 'json') },
  history: { args: 0, options: o(...WHO, 'layer', 'json', 'hub') },
  rollback: { args: 1, argsUsage: '<version>', options: o(...WHO, 'layer', 'json', 'hub') },
  explain: { args: 1, argsUsage: '<path>', options: o(...WHO, 'reveal', 'json') },
  validate: { args: 0, options: o(...WHO, 'file', 'json') },
};

type Values = OptionValues<typeof CONFIG_OPTIONS> & OptionValues<typeof CONNECTION_OPTIONS>;

export async function configCommand(args: string[], io: StreamIo, open: OpenConfigClient): Promise<number> {
  const p = parseSubcommand('config', args, CONFIG_SUBS, CONFIG_HELP, io);
  if (typeof p === 'number') return p;
  const v = p.values as Values;
  const [first, second] = p.positionals as [string | undefined, string | undefined];
  try {
    if (p.sub === 'validate' && v.file !== undefined) return await validateFile(v.file, io);
    if (v.hub) return await withClient('config', v, open, io, (bus) => hubCommand(bus, p.sub, first, second, v, io));
    if (p.sub === 'set' && (v.file === undefined ? p.positionals.length !== 2 : p.positionals.length !== 0))
      throw new StreamUsageError('config set takes <path> <value>, or --file <layer file> and no arguments');
    if (v.env === undefined && !(v.layer === 'global' && ['set', 'unset', 'history', 'rollback'].includes(p.sub)))
      throw new StreamUsageError(`config ${p.sub} needs --env <name>`);
  } catch (err) {
    if (err instanceof StreamUsageError) return usageError('config', err.message, io);
    throw err;
  }
  return withClient('config', v, open, io, async (bus) => {
    const admin = new SettingsAdmin(bus);
    const print = (text: string, json: unknown): void => io.stdout(v.json ? `${JSON.stringify(json)}\n` : text);
    switch (p.sub) {
      case 'get': {
        const r = await resolved(admin, target(v), v.reveal === true);
        const value = first === undefined ? r.value : valueAt(r, first);
        print(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`, value);
        return 0;
      }
      case 'set':
      case 'unset': {
        const scope = scopeOf(v);
        const expect = parseSeqFlag('expect', v.expect, 0);
        const options = expect === undefined ? {} : { expect };
        const r =
          p.sub === 'unset'
            ? await admin.unset(scope, first as string, options)
            : v.file !== undefined
              ? await admin.replace(scope, await layerFile(v.file), options)
              : await admin.set(scope, first as string, parseData(second), options);
        print(writeText(r.version, r.diff, r.restart), r);
        return 0;
      }
      case 'diff': {
        if (v.against === undefined) throw new StreamUsageError('config diff needs --against <environment>');
        const a = await resolved(admin, target(v), v.reveal === true);
        const b = await resolved(admin, { ...target(v), env: checkEnv(v.against) }, v.reveal === true);
        const changes = diffSettings(a.value, b.value, ENVIRONMENT_SETTINGS);
        print(changes.length === 0 ? 'no differences\n' : changesText(changes, `${v.env} → ${v.against}`), changes);
        return 0;
      }
      case 'history': {
        const versions = await admin.history(scopeOf(v));
        const rows = versions.map((x) => [
          String(x.version),
          isoTime(x.time),
          x.author || '-',
          x.note ?? x.diff.map((d) => d.path).join(', '),
        ]);
        print(versions.length === 0 ? 'no versions\n' : `${table(['VERSION', 'TIME', 'AUTHOR', 'CHANGES'], rows, [true])}\n`, versions);
        return 0;
      }
      case 'rollback': {
        const version = parseSeqFlag('version', first, 1) as number;
        const r = await admin.rollback(scopeOf(v), version);
        print(writeText(r.version, r.diff, r.restart), r);
        return 0;
      }
      case 'explain': {
        const r = await resolved(admin, target(v), v.reveal === true);
        const e = explainSetting(r, first as string, { reveal: v.reveal === true });
        const lines = e.chain.map(
          (step) =>
            `  ${step.layer.padEnd(12)}${step.set ? JSON.stringify(step.value) : '-'}${step.layer === e.source ? '   <- in force' : ''}`,
        );
        print(`${first} = ${JSON.stringify(e.value)} (from ${e.source})\n${lines.join('\n')}\n`, e);
        return 0;
      }
      case 'validate': {
        const got = await admin.get(target(v));
        const problems = Object.entries(got.layers).flatMap(([layer, l]) =>
          checkLayer(ENVIRONMENT_SETTINGS, l, { allowSealed: true }).map((i) => ({ layer, ...i })),
        );
        print(
          problems.length === 0 ? `${v.env}: valid\n` : problems.map((x) => `${x.layer}: ${x.path}: ${x.message}\n`).join(''),
          problems,
        );
        return problems.length === 0 ? 0 : 1;
      }
      default:
        return 2;
    }
  });
}

/** `--hub`: the hub's own limits and roles (see src/core/settings/hub-overlay-service.ts). */
async function hubCommand(
  bus: SyncingBus,
  sub: string,
  first: string | undefined,
  second: string | undefined,
  v: Values,
  io: StreamIo,
): Promise<number> {
  const t = HUB_SETTINGS_TOPICS;
  const print = (text: string, json: unknown): void => io.stdout(v.json ? `${JSON.stringify(json)}\n` : text);
  switch (sub) {
    case 'get': {
      const r = await bus.request<{ overlay: unknown; version: number; effective: Record<string, unknown> }>(t.get);
      const value =
        first === undefined
          ? r.effective
          : first.split('.').reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], r.effective);
      print(`${JSON.stringify(value, null, 2)}\n`, first === undefined ? r : value);
      return 0;
    }
    case 'set':
    case 'unset': {
      if (sub === 'set' && (first === undefined || second === undefined))
        throw new StreamUsageError('config set --hub takes <path> <value>');
      const r = await bus.request<{ version: number }>(
        sub === 'set' ? t.set : t.unset,
        sub === 'set' ? { path: first, value: parseData(second) } : { path: first },
      );
      print(`hub settings version ${r.version}: applied\n`, r);
      return 0;
    }
    case 'history': {
      const versions = await bus.request<Array<{ version: number; author: string; time: number; paths: string[]; note?: string }>>(
        t.history,
      );
      const rows = versions.map((x) => [String(x.version), isoTime(x.time), x.author || '-', x.note ?? x.paths.join(', ')]);
      print(versions.length === 0 ? 'no versions\n' : `${table(['VERSION', 'TIME', 'AUTHOR', 'CHANGES'], rows, [true])}\n`, versions);
      return 0;
    }
    case 'rollback': {
      const r = await bus.request<{ version: number }>(t.rollback, { version: parseSeqFlag('version', first, 1) });
      print(`hub settings version ${r.version}: applied\n`, r);
      return 0;
    }
    default:
      throw new StreamUsageError(`config ${sub} does not take --hub`);
  }
}

function target(v: Values): SettingsTarget {
  const t: SettingsTarget = { env: checkEnv(v.env) };
  if (v.project !== undefined) t.project = v.project;
  if (v.user !== undefined) t.user = v.user;
  return t;
}

function scopeOf(v: Values): SettingsScope {
  switch (v.layer ?? 'environment') {
    case 'global':
      return { layer: 'global' };
    case 'environment':
      return { layer: 'environment', env: checkEnv(v.env) };
    case 'project':
      if (v.project === undefined) throw new StreamUsageError('--layer project needs --project <name>');
      return { layer: 'project', project: v.project };
    case 'user':
      if (v.user === undefined) throw new StreamUsageError('--layer user needs --user <name>');
      return { layer: 'user', user: v.user };
    default:
      throw new StreamUsageError(`--layer must be global, environment, project or user, got ${JSON.stringify(v.layer)}`);
  }
}

/** The hub's stored layers of `t`, resolved (CB_ERR_CONFIG_INVALID when one does not check). */
async function resolved(admin: SettingsAdmin, t: SettingsTarget, reveal: boolean): Promise<Resolution> {
  const got = await admin.get(t, { reveal });
  return resolveSettings(ENVIRONMENT_SETTINGS, got.layers, { invalidLayer: 'fail' });
}

function valueAt(r: Resolution, path: string): unknown {
  explainSetting(r, path); // CB_ERR_CONFIG_INVALID for a path the schema does not know
  return getSetting(r.value as SettingsLayer, path);
}

function writeText(version: number, diff: readonly SettingsChange[], restart: readonly string[]): string {
  if (diff.length === 0) return `unchanged (version ${version})\n`;
  const note = restart.length === 0 ? '' : `needs a restart to take effect: ${restart.join(', ')}\n`;
  return `${changesText(diff, `version ${version}`)}${note}`;
}

function changesText(changes: readonly SettingsChange[], title: string): string {
  const show = (x: unknown): string => (x === undefined ? '-' : JSON.stringify(x));
  return `${title}\n${changes.map((c) => `  ${c.op === 'add' ? '+' : c.op === 'remove' ? '-' : '~'} ${c.path}: ${show(c.from)} -> ${show(c.to)}`).join('\n')}\n`;
}

/** A layer file: YAML or JSON, an object. CB_ERR_CONFIG_INVALID naming the file when it does not parse. */
async function layerFile(path: string): Promise<SettingsLayer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw createError('CB_ERR_CONFIG_INVALID', `${path}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, {
      details: { path },
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw createError('CB_ERR_CONFIG_INVALID', `${path} does not parse: ${(cause as Error).message.split('\n')[0]}`, { details: { path } });
  }
  if (!isPlainObject(doc)) throw createError('CB_ERR_CONFIG_INVALID', `${path}: a layer file holds one object`, { details: { path } });
  return doc as SettingsLayer;
}

async function validateFile(path: string, io: StreamIo): Promise<number> {
  let layer: SettingsLayer;
  try {
    layer = await layerFile(path);
  } catch (err) {
    io.stderr(`crossbus: ${(err as Error).message} (CB_ERR_CONFIG_INVALID)\n`);
    return 1;
  }
  const issues = checkLayer(ENVIRONMENT_SETTINGS, layer);
  if (issues.length === 0) {
    io.stdout(`${path}: valid\n`);
    return 0;
  }
  io.stderr(issues.map((i) => `${path}: ${i.path || '(the layer)'}: ${i.message}\n`).join(''));
  return 1;
}
