import { createError, deserializeError, type CrossbusError } from '../core/errors/index.js';
import { PayloadType, type PayloadFields } from '../core/protocol/envelope.js';
import { decodeJson, jsonText } from '../core/util/json.js';

const NO_BYTES = new Uint8Array(0);

/** The payload fields of an envelope for `data`: JSON travels as text, written straight into the frame. */
export function payloadOf(data: unknown): PayloadFields {
  if (data instanceof Uint8Array) return { payloadType: PayloadType.BYTES, payload: data, payloadText: undefined };
  if (data === undefined) return { payloadType: PayloadType.NONE, payload: NO_BYTES, payloadText: undefined };
  return { payloadType: PayloadType.JSON, payload: NO_BYTES, payloadText: jsonText(data) };
}

/** The error an ERROR or GOODBYE frame, or a failed service's reply, carries as its payload. */
export function errorFromPayload(payload: Uint8Array): CrossbusError {
  try {
    return deserializeError(decodeJson(payload));
  } catch {
    return createError('CB_ERR_PROTOCOL', 'error frame with an unreadable payload');
  }
}
