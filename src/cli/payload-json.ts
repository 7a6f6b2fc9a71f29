/**
 * The one shape a message payload has in every command's --json output: `"data"` holds the
 * JSON value that was published (a string published as text is a JSON string), `"data_b64"` the
 * base64 of a binary payload; a message without a payload has neither key. The same rule in sub,
 * request, reply, stream replay and dlq ls (README, "CLI").
 */

export interface PayloadJson {
  data?: unknown;
  data_b64?: string;
}

/** The payload fields of a message's JSON form. */
export function payloadJson(data: unknown): PayloadJson {
  if (data instanceof Uint8Array) return { data_b64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
  return data === undefined ? {} : { data };
}

/** `[data]` as typed: its JSON value when it is valid JSON, else the text itself. */
export function parseData(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A payload on a terminal: text as itself, other JSON as JSON, bytes as a short note. */
export function payloadText(data: unknown): string {
  if (data === undefined) return '';
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return `<${data.byteLength} bytes: ${payloadJson(data).data_b64}>`;
  return JSON.stringify(data);
}

/** How many bytes the payload takes on the wire (JSON as UTF-8 text). */
export function payloadBytes(data: unknown): number {
  if (data === undefined) return 0;
  if (data instanceof Uint8Array) return data.byteLength;
  return Buffer.byteLength(JSON.stringify(data) ?? '', 'utf8');
}
