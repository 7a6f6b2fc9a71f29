/** Asserting on error codes, for tests that see errors from clients and raw connections alike. */
import assert from 'node:assert/strict';
import { CrossbusError } from '../../src/core/errors/index.js';

export function codeOf(err: unknown): string | undefined {
  return err instanceof CrossbusError ? err.code : (err as { code?: string } | undefined)?.code;
}

/** Asserts that `p` rejects with `code` and returns the error. */
export async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<CrossbusError> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.equal(codeOf(caught), code, `rejected with ${code}, got ${String(caught)}`);
  return caught as CrossbusError;
}
