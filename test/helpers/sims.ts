// Simulated engines for a test file: `const sim = useSims(defaults)` gives a factory whose
// servers are all closed after each test.
import { afterEach } from "vitest";
import { type SimOptions, type SimServer, startSim } from "../../src/sim/index.js";

export function useSims(defaults: SimOptions = {}): (options?: SimOptions) => Promise<SimServer> {
  const running: SimServer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await startSim({ ...defaults, ...options });
    running.push(s);
    return s;
  };
}
