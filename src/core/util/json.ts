import { ValidationError } from '../errors/index.js';
import { decodeUtf8, encodeUtf8 } from '../protocol/utf8.js';

/** JSON payload helpers. `undefined` has no JSON form, so it is refused rather than silently lost. */
export function encodeJson(value: unknown): Uint8Array {
  return encodeUtf8(jsonText(value));
}

/** The JSON text of `value`, or a typed error when it has none. */
export function jsonText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'payload cannot be serialized as JSON', { cause });
  }
  if (text === undefined) throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'payload has no JSON form (undefined or a function)');
  return text;
}

export function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes));
  } catch (cause) {
    throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'payload is not valid UTF-8 JSON', { cause });
  }
}
