// The stand-in vllm, docker, modal and nvidia-smi executables (test/fixtures/bin): made
// executable once per test file, and put first on PATH for the processes a test starts. They
// replay what the real tools print from test/fixtures/transcripts, which tests read here too.
import { chmodSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll } from "vitest";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "bin");
/** A stand-in `python3` for Modal's web URL lookup; on PATH only where a test puts it. */
export const MODAL_PYTHON = join(FIXTURES, "modal-python");
const TRANSCRIPTS = join(import.meta.dirname, "..", "fixtures", "transcripts");

/** Registers a beforeAll that makes the stand-ins executable (a checkout may lose the bit). */
export function useStandIns(): void {
  beforeAll(() => {
    for (const dir of [FIXTURES, MODAL_PYTHON]) {
      for (const f of readdirSync(dir, { withFileTypes: true })) {
        if (f.isFile()) chmodSync(join(dir, f.name), 0o755);
      }
    }
  });
}

/** PATH with the stand-ins first. */
export function standInPath(): string {
  return `${FIXTURES}:${process.env.PATH}`;
}

/** What a real tool printed (test/fixtures/transcripts/<name>.txt without its source line). */
export function transcript(name: string): string {
  const text = readFileSync(join(TRANSCRIPTS, `${name}.txt`), "utf8");
  return text.slice(text.indexOf("\n") + 1);
}
