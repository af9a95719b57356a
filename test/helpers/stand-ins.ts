// The stand-in vllm, docker, modal and nvidia-smi executables (test/fixtures/bin): made
// executable once per test file, and put first on PATH for the processes a test starts.
import { chmodSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll } from "vitest";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "bin");

/** Registers a beforeAll that makes the stand-ins executable (a checkout may lose the bit). */
export function useStandIns(): void {
  beforeAll(() => {
    for (const f of readdirSync(FIXTURES)) chmodSync(join(FIXTURES, f), 0o755);
  });
}

/** PATH with the stand-ins first. */
export function standInPath(): string {
  return `${FIXTURES}:${process.env.PATH}`;
}
