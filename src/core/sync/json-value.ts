/**
 * JSON values as sync holds them: never mutated once shared, compared deeply, copied when they
 * come from an application (which may change its objects later), written canonically for hashes.
 */
import { ValidationError } from '../errors/index.js';

export type JsonObject = { [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own property, never one inherited (a key named `__proto__` or `constructor` is data here). */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Sets an own data property, also for `__proto__`, whose assignment would change the prototype. */
export function setOwn(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** Deep equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual((a as JsonObject)[k], (b as JsonObject)[k])) return false;
  }
  return true;
}

/** A deep copy of a JSON value; throws CB_ERR_PAYLOAD_INVALID for anything JSON cannot hold. */
export function cloneJson(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a document value is not finite JSON number');
  }
  if (depth > 512) throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a document value is nested deeper than 512 levels');
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i], depth + 1);
    return out;
  }
  if (typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const out: JsonObject = {};
    for (const k of Object.keys(value)) setOwn(out, k, cloneJson((value as JsonObject)[k], depth + 1));
    return out;
  }
  throw new ValidationError('CB_ERR_PAYLOAD_INVALID', `a document value is not JSON (${typeof value})`);
}

/** JSON text with object keys sorted: the same value gives the same text on every replica. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) s += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${s}]`;
  }
  const keys = Object.keys(value).sort();
  let s = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    s += `${i === 0 ? '' : ','}${JSON.stringify(k)}:${canonicalJson((value as JsonObject)[k])}`;
  }
  return `${s}}`;
}

/** The text of a text value: a string, or a `{ text }` file. */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.text === 'string' && Object.keys(v).length === 1) return v.text;
  return undefined;
}

/** `text` in the form `like` has: a string, or a `{ text }` file. */
export function withText(like: unknown, text: string): unknown {
  return typeof like === 'string' ? text : { text };
}

/** The base64 of a binary file (`{ base64 }`). */
export function base64Of(v: unknown): string | undefined {
  return isObject(v) && typeof v.base64 === 'string' && Object.keys(v).length === 1 ? v.base64 : undefined;
}
