/**
 * Redaction: every secret leaf replaced by `'[redacted]'`, for logs, errors, the CLI and the API.
 * Pure and synchronous (no key needed), so that anything may redact before it prints.
 */
import { isPlainObject, setOwn, type SettingsNode, type SettingsSchema } from './settings-schema.js';

/** What a secret reads as wherever it is shown. */
export const REDACTED = '[redacted]';

/** `value` (found at `node`) with every secret in it redacted: a new object where anything changed. */
export function redactAt(node: SettingsNode | undefined, value: unknown): unknown {
  if (node === undefined || value === undefined) return value;
  if (node.secret) return REDACTED;
  if (node.kind === 'leaf' || !isPlainObject(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const child = node.kind === 'object' ? node.entries[key] : node.value;
    const redacted = redactAt(child, value[key]);
    if (redacted !== value[key]) {
      out ??= { ...value };
      setOwn(out, key, redacted);
    }
  }
  return out ?? value;
}

/**
 * A configuration or a layer with every secret leaf (plain or sealed) replaced by `'[redacted]'`.
 * Never mutates `value`; keys the schema does not know are kept as they are.
 */
export function redact<T>(value: T, settings: SettingsSchema): T {
  return redactAt(settings.root, value) as T;
}
