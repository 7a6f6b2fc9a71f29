/**
 * The hub's config file on disk: load (.json, .yaml, .yml), create a default one with fresh
 * secrets, and rotate an app's key. The file holds secrets, so it is written 0600 and atomically
 * (temp file + rename), and neither error messages nor logs ever quote its content.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import {
  parseHubConfig,
  serializeHubConfig,
  type AppKey,
  type HubConfig,
  type HubConfigDocument,
  type KeyDocument,
} from '../../core/config/schema.js';
import { ConfigError, createError } from '../../core/errors/index.js';
import { silentLogger, type Logger } from '../../core/util/logger.js';
import { replaceFileAtomically, writePrivateTemp } from '../atomic-file.js';
import { DEFAULT_RATE } from '../../core/defaults.js';
import { DEFAULT_CONFIG_LOCK_WAIT_MS, DEFAULT_ROTATION_GRACE_MS } from '../defaults.js';
import { acquireFileLock } from '../dir-lock.js';

/** Name of the config file inside the hub's data directory. @default 'crossbus.config.json' */
export const CONFIG_FILE_NAME = 'crossbus.config.json';
/** Bytes of a generated secret. @default 32 */
export const GENERATED_SECRET_BYTES = 32;

type Format = 'json' | 'yaml';
interface Loaded {
  format: Format;
  text: string;
  raw: unknown;
  yaml?: Document;
}

function invalid(message: string, cause?: unknown): ConfigError {
  return new ConfigError('CB_ERR_CONFIG_INVALID', message, cause === undefined ? {} : { cause });
}

function formatOf(path: string): Format {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  throw invalid(`${path}: unsupported config file type ${JSON.stringify(ext)} (use .json, .yaml or .yml)`);
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

// Parser messages can quote the offending line, which may hold a secret: keep only the diagnosis.
function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const where = at === null ? path : `${path}:${lineCol(text, Number(at[1]))}`;
    const what = message.replace(/, .* is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    // A message shape this code does not know might still quote the file: then say less.
    throw invalid(`${where}: invalid JSON: ${what.includes('"') ? 'syntax error' : what}`); // no cause: it quotes the file
  }
}

function parseYaml(path: string, text: string): { raw: unknown; doc: Document } {
  const doc = parseDocument(text);
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = err.linePos?.[0];
    const where = pos === undefined ? path : `${path}:${pos.line}:${pos.col}`;
    throw invalid(`${where}: invalid YAML: ${err.message.split(' at line ')[0]}`); // no cause: it quotes the file
  }
  return { raw: doc.toJS(), doc };
}

async function readDocument(path: string): Promise<Loaded> {
  const format = formatOf(path);
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, ''); // editors on Windows add a BOM
  } catch (err) {
    throw invalid(`${path}: cannot read the config file: ${(err as Error).message}`, err);
  }
  if (format === 'json') return { format, text, raw: parseJson(path, text) };
  const { raw, doc } = parseYaml(path, text);
  return { format, text, raw, yaml: doc };
}

/**
 * A JSON or YAML file (by its extension) parsed, not validated: for other documents in the same
 * formats (app manifests). Syntax errors name the file and line:column, never quote it.
 */
export async function readConfigDocument(path: string): Promise<unknown> {
  return (await readDocument(path)).raw;
}

/** Reads and validates a config file; errors name the file (and line:column for syntax errors). */
export async function loadConfigFile(path: string): Promise<HubConfig> {
  return parseHubConfig((await readDocument(path)).raw, path);
}

const newSecret = (): string => randomBytes(GENERATED_SECRET_BYTES).toString('base64');

/** A fresh config: `admin` may do anything, `app` stays under `app.>` and its own `apps.{app}.>`. */
export function createDefaultConfig(): Pick<HubConfigDocument, 'apps' | 'roles' | 'origins' | 'limits'> {
  return {
    apps: {
      admin: { secret: newSecret(), roles: ['admin'] },
      app: { secret: newSecret(), roles: ['app'] },
    },
    roles: {
      admin: { publish: ['>'], subscribe: ['>'], request: ['>'] },
      app: { publish: ['app.>'], subscribe: ['app.>', 'apps.{app}.>'], request: ['app.>'] },
    },
    origins: [],
    limits: { rate: { ...DEFAULT_RATE }, topicRates: [] },
  };
}

/**
 * Atomically creates `path` unless it exists. link() fails on an existing target where rename()
 * would overwrite it, so two hubs starting at once cannot replace each other's secrets.
 * Returns false when another process created the file first.
 */
async function createFile(path: string, text: string): Promise<boolean> {
  const tmp = await writePrivateTemp(path, text);
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    await rename(tmp, path); // filesystems without hard links: last resort, still atomic
    return true;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Loads `<dataDir>/crossbus.config.json`, creating it with fresh secrets (0600) the first time. */
export async function ensureConfigFile(
  dataDir: string,
  logger: Logger = silentLogger,
): Promise<{ path: string; created: boolean; config: HubConfig }> {
  const path = join(dataDir, CONFIG_FILE_NAME);
  if (await exists(path)) return { path, created: false, config: await loadConfigFile(path) };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const doc = createDefaultConfig();
  const config = parseHubConfig(doc, path);
  if (!(await createFile(path, `${JSON.stringify(doc, null, 2)}\n`))) {
    return { path, created: false, config: await loadConfigFile(path) };
  }
  // Names and the path only: the secrets stay in the file.
  logger.info({ path, apps: [...config.apps.keys()] }, 'created a hub config with fresh secrets');
  return { path, created: true, config };
}

function nextKeyId(keys: readonly AppKey[]): string {
  let n = keys.length;
  for (const k of keys) {
    const m = /^k(\d+)$/.exec(k.id);
    if (m !== null) n = Math.max(n, Number(m[1]));
  }
  return `k${n + 1}`;
}

/** Replaces `secret`/`secrets` of one app, keeping the order of its other keys (JSON objects). */
function withSecrets(rawApp: Record<string, unknown>, secrets: KeyDocument[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rawApp)) {
    if (k === 'secret' || k === 'secrets') out.secrets = secrets;
    else out[k] = v;
  }
  return out;
}

/** The same edit on a YAML document, in place, so comments elsewhere in the file survive. */
function setYamlSecrets(path: string, doc: Document, app: string, secrets: KeyDocument[]): void {
  const node = doc.getIn(['apps', app], true);
  if (!isMap(node)) throw invalid(`${path}: apps.${app} is not a plain YAML map (an alias?); rotate this key by hand`);
  const pair = node.items.find((p) => isScalar(p.key) && (p.key.value === 'secret' || p.key.value === 'secrets'));
  if (pair === undefined) throw invalid(`${path}: apps.${app} has no secret to rotate`);
  pair.key = doc.createNode('secrets');
  pair.value = doc.createNode(secrets);
}

function detectIndent(text: string): string {
  return /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
}

export interface RotateKeyOptions {
  /** How long the current keys stay valid. @default DEFAULT_ROTATION_GRACE_MS */
  graceMs?: number;
  /** Milliseconds since the epoch. @default Date.now() */
  now?: number;
}

/**
 * Adds a fresh key to `app` and lets its currently valid keys expire at now + graceMs (or earlier,
 * if they already expire earlier). Rewrites the file atomically in its own format, 0600. Two rotations at once (two operators, a
 * script in a loop) would each read the file before the other wrote it and one key would be lost:
 * the write holds `<path>.lock`, waiting up to `DEFAULT_CONFIG_LOCK_WAIT_MS` for another writer.
 */
export async function rotateKey(
  path: string,
  app: string,
  options: RotateKeyOptions = {},
): Promise<{ keyId: string; secret: string; previousExpiresAt: number | undefined }> {
  const lock = await acquireFileLock(`${path}.lock`, { purpose: 'config writer', waitMs: DEFAULT_CONFIG_LOCK_WAIT_MS });
  try {
    return await rotateKeyUnlocked(path, app, options);
  } finally {
    await lock.release();
  }
}

async function rotateKeyUnlocked(
  path: string,
  app: string,
  options: RotateKeyOptions = {},
): Promise<{ keyId: string; secret: string; previousExpiresAt: number | undefined }> {
  const { graceMs = DEFAULT_ROTATION_GRACE_MS, now = Date.now() } = options;
  if (!Number.isSafeInteger(graceMs) || graceMs < 0)
    throw new ConfigError('CB_ERR_INVALID_OPTION', `graceMs must be a non-negative integer, got ${graceMs}`);
  if (!Number.isSafeInteger(now) || now < 0)
    throw new ConfigError('CB_ERR_INVALID_OPTION', `now must be milliseconds since the epoch, got ${now}`);
  const loaded = await readDocument(path);
  const config = parseHubConfig(loaded.raw, path);
  const current = config.apps.get(app);
  if (current === undefined) throw new ConfigError('CB_ERR_INVALID_OPTION', `${path}: there is no app ${JSON.stringify(app)}`);

  const expiry = now + graceMs;
  let previousExpiresAt: number | undefined;
  const kept = current.keys.map((k): AppKey => {
    const valid = (k.notBefore === undefined || k.notBefore <= now) && (k.expiresAt === undefined || k.expiresAt > now);
    if (!valid) return k; // expired or future keys keep their own dates
    const expiresAt = Math.min(k.expiresAt ?? Infinity, expiry);
    previousExpiresAt = Math.max(previousExpiresAt ?? 0, expiresAt);
    return { ...k, expiresAt };
  });
  const keyId = nextKeyId(current.keys);
  const secret = randomBytes(GENERATED_SECRET_BYTES);
  const apps = new Map(config.apps).set(app, { ...current, keys: [...kept, { id: keyId, secret }] });
  // With two or more keys the serializer always writes the `secrets` list.
  const secrets = serializeHubConfig({ ...config, apps }).apps[app]?.secrets ?? [];

  let text: string;
  if (loaded.yaml !== undefined) {
    setYamlSecrets(path, loaded.yaml, app, secrets);
    text = loaded.yaml.toString();
  } else {
    const raw = loaded.raw as { apps: Record<string, Record<string, unknown>> };
    const next = { ...raw, apps: { ...raw.apps, [app]: withSecrets(raw.apps[app] ?? {}, secrets) } };
    text = `${JSON.stringify(next, null, detectIndent(loaded.text))}\n`;
  }
  // Never write a file the hub would refuse to start with.
  const check = loaded.format === 'json' ? parseJson(path, text) : parseYaml(path, text).raw;
  if (
    parseHubConfig(check, path)
      .apps.get(app)
      ?.keys.some((k) => k.id === keyId) !== true
  ) {
    throw createError('CB_ERR_INTERNAL', `${path}: the rotated file lost the new key; nothing was written`);
  }
  await replaceFileAtomically(path, text);
  return { keyId, secret: secret.toString('base64'), previousExpiresAt };
}
