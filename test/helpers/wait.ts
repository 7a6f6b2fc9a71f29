/**
 * Waiting in tests for something to become true: poll a condition (sync or async) every 5 ms,
 * and fail with what was awaited once the time is up. Tests that check that something did *not*
 * happen wait for a later positive signal instead (see the tests that use a barrier message).
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
