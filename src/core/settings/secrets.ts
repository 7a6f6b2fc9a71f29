/**
 * Secrets at rest: every secret leaf of a layer sealed with AES-256-GCM (`settings-key.ts`) as
 * `{ "$sealed": "v1.<iv>.<ciphertext and tag>" }`, the leaf's dotted path bound in as additional
 * data, so that a sealed value copied to another path does not open. Opening fails with
 * CB_ERR_CONFIG_INVALID naming the path only: never the value, the plaintext or the key.
 */
import { ConfigError } from '../errors/index.js';
import { decodeUtf8, encodeUtf8 } from '../protocol/utf8.js';
import { isSealed, type SealedValue } from './layers.js';
import { isPlainObject, setOwn, type SettingsLayer, type SettingsNode, type SettingsSchema } from './settings-schema.js';
import type { SettingsKey } from './settings-key.js';

/** Each value found at a secret node, replaced by what `change` makes of it: a new object where anything changed. */
async function mapSecrets(
  node: SettingsNode | undefined,
  value: unknown,
  path: string,
  change: (value: unknown, path: string) => Promise<unknown>,
): Promise<unknown> {
  if (node === undefined || value === undefined) return value;
  if (node.secret) return change(value, path);
  if (node.kind === 'leaf' || !isPlainObject(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const child = node.kind === 'object' ? node.entries[key] : node.value;
    const next = await mapSecrets(child, value[key], path === '' ? key : `${path}.${key}`, change);
    if (next !== value[key]) {
      out ??= { ...value };
      setOwn(out, key, next);
    }
  }
  return out ?? value;
}

/**
 * The layer with every secret sealed under `key` (values already sealed are kept). Never mutates
 * `layer`. A secret's value is sealed whatever its type (its JSON), so the check after opening
 * judges it as it would the plain value.
 */
export async function sealSecrets(layer: SettingsLayer, settings: SettingsSchema, key: SettingsKey): Promise<SettingsLayer> {
  return (await mapSecrets(settings.root, layer, '', async (value, path) => {
    if (isSealed(value)) return value;
    const sealed: SealedValue = { $sealed: await key.seal(encodeUtf8(path), encodeUtf8(JSON.stringify(value))) };
    return sealed;
  })) as SettingsLayer;
}

/**
 * The layer with every sealed secret opened (plain values at secret paths are kept as they are).
 * Never mutates `layer`. Throws CB_ERR_CONFIG_INVALID with `details.path` when a sealed value does
 * not open: the wrong key, an altered value, or one moved from another path.
 */
export async function openSecrets(layer: SettingsLayer, settings: SettingsSchema, key: SettingsKey): Promise<SettingsLayer> {
  return (await mapSecrets(settings.root, layer, '', async (value, path) => {
    if (!isSealed(value)) return value;
    const plain = await key.open(encodeUtf8(path), value.$sealed);
    if (plain !== undefined) {
      try {
        return JSON.parse(decodeUtf8(plain)) as unknown;
      } catch {
        // Sealed by someone holding the key, but not by sealSecrets: reported like any bad value.
      }
    }
    throw new ConfigError('CB_ERR_CONFIG_INVALID', `${path}: the sealed value does not open (wrong key, or altered or moved)`, {
      details: { path },
    });
  })) as SettingsLayer;
}
