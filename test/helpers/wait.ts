// Bounded polling for tests: a program that never gets there fails the test with what it was
// waiting for, instead of hanging until the test's own timeout.
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `get` until `ok` holds for its value, and returns that value. */
export async function waitFor<T>(
  get: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await sleep(20);
  }
}

/** Polls until `check()` is true; `what` names it in the error when it never is. */
export async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
