// What an engine received: the simulator's onRequestBody hook, collected per test, so a test can
// assert the exact body a translated row became.
import type { SimOptions } from "../../src/sim/index.js";

export interface Captured {
  path: string;
  body: Record<string, unknown>;
}

export function captureBodies(): { options: SimOptions; received: Captured[] } {
  const received: Captured[] = [];
  return {
    received,
    options: { onRequestBody: (path, body) => received.push({ path, body: JSON.parse(body) }) },
  };
}

/** The one body whose JSON text contains `marker` (a row's own prompt text). */
export function bodyWith(received: readonly Captured[], marker: string): Captured {
  const found = received.filter((r) => JSON.stringify(r.body).includes(marker));
  if (found.length !== 1) throw new Error(`${found.length} bodies contain ${JSON.stringify(marker)}`);
  return found[0] as Captured;
}
