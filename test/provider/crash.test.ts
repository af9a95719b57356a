// kill -9 of a real `vbatch run --provider openai` at each step of a batch's life, then the same
// command again: no batch is created twice, no row is submitted twice, and every row is written
// once. The process is stopped at the step through VBATCH_TEST_PAUSE_AT (src/provider/pause-hook.ts):
// it says so on stderr and waits, so the kill lands there every time, without sleeps.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { readJsonl, tempDir, writeChatInput } from "../helpers/files.js";
import { type StandIn, startStandIn } from "../helpers/provider-stand-in.js";
import { until } from "../helpers/wait.js";

const dir = tempDir("vbatch-provider-crash-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);

const stands: StandIn[] = [];
afterEach(async () => {
  await Promise.all(stands.splice(0).map((s) => s.close()));
});

const ROWS = 12;

describe("kill -9 of a provider job, and resume", () => {
  for (const step of ["uploaded", "created", "polled", "downloading"]) {
    it(`at "${step}": no batch twice, no row twice`, async () => {
      const stand = await startStandIn({ validatingPolls: 1 });
      stands.push(stand);
      const input = writeChatInput(`${fresh("in")}.jsonl`, ROWS, { model: "gpt-4o-mini" });
      const output = `${fresh("out")}.jsonl`;
      const args = [
        "run",
        input,
        "-o",
        output,
        "--provider",
        "openai",
        "--provider-url",
        stand.url,
        "--chunk-rows",
        "5",
        "--poll-interval",
        "0.01",
        "--no-progress",
      ];
      const env = { OPENAI_API_KEY: "k" };
      const first = startCli(args, { env: { ...env, VBATCH_TEST_PAUSE_AT: step } });
      await until(`the run to pause at ${step}`, () => first.stderr().includes(`paused at ${step}`));
      first.child.kill("SIGKILL");
      expect((await first.done).signal).toBe("SIGKILL");
      const again = await runCli(args, { env });
      expect(again.stderr).not.toMatch(/paused/);
      expect(again.code).toBe(0);
      const out = readJsonl(output);
      expect(out.map((l) => l.custom_id).sort()).toEqual(
        Array.from({ length: ROWS }, (_, i) => `row-${i}`).sort(),
      );
      expect(stand.batches).toHaveLength(3);
      const chunks = stand.batches.map((b) => b.metadata.vbatch_chunk);
      expect(new Set(chunks).size).toBe(chunks.length);
      expect(stand.batches.flatMap((b) => b.rows.map((r) => r.custom_id)).sort()).toEqual(
        Array.from({ length: ROWS }, (_, i) => `row-${i}`).sort(),
      );
    });
  }
});
