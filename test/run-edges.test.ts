// What a run says about an input that misbehaves without being invalid: lines appended while it
// runs are reported (not a silent "all done"), and a megabyte custom_id is echoed bounded.
import { appendFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "./helpers/cli.js";
import { chatRow, readJsonl, tempDir, writeChatInput, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";
import { until } from "./helpers/wait.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0 });

const outputLines = (path: string) =>
  existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;

describe("an input that grows while the job runs", () => {
  it("says how much was added and not sent; the rerun refuses the changed file", async () => {
    const s = await sim({ maxNumSeqs: 8, stepMs: 2, outputTokens: 8 });
    const input = writeChatInput(join(dir, "grow.jsonl"), 800);
    const output = join(dir, "grow.out.jsonl");
    const args = ["run", input, "-o", output, "-e", s.url, "--concurrency", "8", "--json"];
    const run = startCli(args);
    await until("a first commit", () => outputLines(output) > 50);
    const added = Array.from(
      { length: 40 },
      (_, i) => `${JSON.stringify(chatRow(800 + i, { model: "sim-model" }))}\n`,
    ).join("");
    const before = statSync(input).size;
    appendFileSync(input, added);
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const bytes = Buffer.byteLength(added);
    expect(r.stderr).toContain(
      `vbatch: warning: ${input} grew by ${bytes.toLocaleString("en-US")} bytes (40 lines) while the job ran: they were not read or sent.`,
    );
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      total: 800,
      succeeded: 800,
      inputGrew: { path: input, bytes, lines: 40 },
    });
    expect(statSync(input).size).toBe(before + bytes);
    expect(readJsonl(output)).toHaveLength(800);
    const again = await runCli(args);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("differs from the input this job started with");
  });
});

describe("a custom_id a megabyte long", () => {
  const huge = "x".repeat(1_000_000);
  const long = "y".repeat(500); // a valid id, under the 512 limit, but long for a message

  it("is echoed bounded in the errors file and in every message; a valid row's id stays exact", async () => {
    const s = await sim();
    const input = writeJsonl(join(dir, "ids.jsonl"), [
      { ...chatRow(0, { model: "sim-model" }), custom_id: huge },
      { ...chatRow(1, { model: "sim-model" }), custom_id: long },
      { ...chatRow(2, { model: "sim-model" }), custom_id: long },
      chatRow(3, { model: "sim-model" }),
    ]);
    const v = await runCli(["validate", input]);
    expect(v.code).toBe(2);
    for (const line of v.stderr.split("\n")) expect(line.length).toBeLessThan(400);
    expect(v.stderr).toContain(
      `line 3: duplicate custom_id "${"y".repeat(200)}…(500 characters)" (first on line 2)`,
    );
    const output = join(dir, "ids.out.jsonl");
    const r = await runCli(["run", input, "-o", output, "-e", s.url, "--skip-invalid"]);
    expect(r.code, r.stderr).toBe(0);
    for (const line of r.stderr.split("\n")) expect(line.length).toBeLessThan(2000);
    // The valid rows keep their ids exactly: they are the keys.
    expect(readJsonl(output).map((l) => l.custom_id)).toEqual([long, "row-3"]);
    const errorsFile = join(dir, "ids.out.errors.jsonl");
    expect(statSync(errorsFile).size).toBeLessThan(4000);
    const errors = readJsonl(errorsFile);
    expect(errors.map((l) => l.error.message)).toEqual([
      "line 1: custom_id longer than 512 characters",
      `line 3: duplicate custom_id "${"y".repeat(200)}…(500 characters)" (first on line 2)`,
    ]);
    expect(errors[0].custom_id).toBe(`${"x".repeat(200)}…(1,000,000 characters)`);
    expect(errors[1].custom_id).toBe(long);
  });
});
