// Stopping a provider job: the first Ctrl-C stops submitting and keeps polling, the second
// cancels its batches at the provider; `vbatch cancel <output>` does the same from another shell.
// The same command then resumes, and every row is written once.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { readJsonl, tempDir, writeChatInput } from "../helpers/files.js";
import { type StandIn, startStandIn } from "../helpers/provider-stand-in.js";
import { until } from "../helpers/wait.js";

const dir = tempDir("vbatch-provider-cancel-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);
const stands: StandIn[] = [];
afterEach(async () => {
  await Promise.all(stands.splice(0).map((s) => s.close()));
});

const ROWS = 12;
const env = { OPENAI_API_KEY: "k" };
const all = Array.from({ length: ROWS }, (_, i) => `row-${i}`).sort();

/** A job whose three batches stay in `validating` until the test lets them run. */
async function stuckJob() {
  const stand = await startStandIn({ validatingPolls: Number.MAX_SAFE_INTEGER });
  stands.push(stand);
  const input = writeChatInput(`${fresh("in")}.jsonl`, ROWS, { model: "gpt-4o-mini" });
  const output = `${fresh("out")}.jsonl`;
  const args = ["run", input, "-o", output, "--provider", "openai", "--provider-url", stand.url];
  args.push("--chunk-rows", "5", "--poll-interval", "0.01", "--no-progress");
  const run = startCli(args, { env });
  await until("three batches", () => stand.batches.length === 3);
  return { stand, output, args, run };
}

async function resume(stand: StandIn, args: string[], output: string) {
  stand.script.validatingPolls = 0;
  const again = await runCli(args, { env });
  expect(again.code).toBe(0);
  expect(
    readJsonl(output)
      .map((l) => l.custom_id)
      .sort(),
  ).toEqual(all);
  expect(stand.batches.map((b) => b.status)).toEqual([
    ...Array(3).fill("cancelled"),
    ...Array(3).fill("completed"),
  ]);
}

describe("stopping a provider job", () => {
  it("Ctrl-C once stops submitting and keeps polling; twice cancels the batches; then it resumes", async () => {
    const { stand, output, args, run } = await stuckJob();
    run.child.kill("SIGINT");
    await until("the first Ctrl-C's line", () =>
      run.stderr().includes("no new batch; polling the running ones"),
    );
    const polls = stand.batches[0]?.polls ?? 0;
    await until("a poll after the first Ctrl-C", () => (stand.batches[0]?.polls ?? 0) > polls);
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/cancelling the job's batches at the provider/);
    expect(stand.batches.map((b) => b.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
    expect(readJsonl(output)).toEqual([]);
    await resume(stand, args, output);
  });

  it("vbatch cancel <output> from another shell does the same", async () => {
    const { stand, output, args, run } = await stuckJob();
    const c = await runCli(["cancel", output], { env });
    expect(c.code).toBe(0);
    expect(c.stderr).toMatch(/told the running job \(pid \d+\) to stop submitting/);
    expect(c.stderr).toMatch(/cancelled 3 batches/);
    expect((await run.done).code).toBe(130);
    expect(stand.batches.map((b) => b.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
    await resume(stand, args, output);
    const status = await runCli(["status", output]);
    expect(status.stdout).toMatch(/provider\s+openai .*: 6 batches \(3 cancelled, 3 completed\)/);
    expect(status.stdout).toMatch(
      /billed\s+60 prompt, 36 completion tokens; cost < \$0\.0001 at \$0\.075 \/ \$0\.30 per 1M in\/out \(table of /,
    );
  });
});
