// A new user's first hour, as they would meet it: a JSON file that is not JSONL, a typo in a
// flag, --priority against an engine without priority scheduling, and the README's quick start
// (whose first `npx vbatch` used to rebuild the whole package).
// Each mistake gets one `vbatch: error:` line that says what to do, and nothing is sent.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderEstimateProgress } from "../src/cli/commands/estimate.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, readJsonl, tempDir } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0 });
const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("vbatch: error:"));
/** stderr without the JSON log lines a run writes when it is not on a terminal. */
const said = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("{"))
    .join("\n");

describe("an input that is JSON but not JSONL", () => {
  const rows = [chatRow(0, { model: "sim-model" }), chatRow(1, { model: "sim-model" })];

  it.each([
    ["a pretty-printed array", "arr.json", `${JSON.stringify(rows, null, 2)}\n`],
    ["an array on one line", "one.json", `${JSON.stringify(rows)}\n`],
  ])("%s: one line naming the fix, nothing sent", async (_, name, text) => {
    const input = join(dir, name);
    writeFileSync(input, text);
    const output = join(dir, `${name}.out.jsonl`);
    for (const extra of [[], ["--skip-invalid"]]) {
      const r = await runCli(["run", input, "-o", output, "-e", "http://127.0.0.1:9", ...extra]);
      expect(r.code).toBe(2);
      expect(said(r.stderr)).toBe(
        `vbatch: error: ${input} line 1: this is one JSON array, not JSONL (one JSON object per line); convert it with: jq -c '.[]' ${input} > ${input}l`,
      );
      expect(existsSync(output)).toBe(false);
    }
    for (const command of ["validate", "estimate"]) {
      const v = await runCli([command, input]);
      expect(v.code).toBe(2);
      expect(errorLines(v.stderr)).toEqual([expect.stringContaining("this is one JSON array, not JSONL")]);
      expect(v.stderr).not.toContain("malformed JSON");
    }
  });

  it("pretty-printed objects: one line naming the fix", async () => {
    const input = join(dir, "pretty.jsonl");
    writeFileSync(input, rows.map((r) => `${JSON.stringify(r, null, 2)}\n`).join(""));
    const r = await runCli(["run", input, "-o", join(dir, "pretty.out.jsonl"), "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(said(r.stderr)).toBe(
      `vbatch: error: ${input} line 1: "{" alone on a line: this is pretty-printed JSON, not JSONL (one JSON object per line); convert it with: jq -c . ${input} > ${join(dir, "pretty.fixed.jsonl")}`,
    );
  });
});

describe("commander's own errors", () => {
  it.each([
    [
      ["run", "in.jsonl", "-o", "out.jsonl", "--endpont", "http://x"],
      /^vbatch: error: unknown option '--endpont' \(did you mean --endpoint\?\); see vbatch run --help$/,
    ],
    [
      ["run", "in.jsonl"],
      /^vbatch: error: required option '-o, --output <file>' not specified; see vbatch run --help$/,
    ],
    [
      ["run", "a", "b", "-o", "x"],
      /^vbatch: error: too many arguments for 'run'\. Expected 1 argument but got 2\.; see vbatch run --help$/,
    ],
    [
      ["run", "in.jsonl", "-o"],
      /^vbatch: error: option '-o, --output <file>' argument missing; see vbatch run --help$/,
    ],
    [["rn"], /^vbatch: error: unknown command 'rn' \(did you mean run\?\); see vbatch --help$/],
    [["retry"], /^vbatch: error: missing required argument 'output'; see vbatch retry --help$/],
  ])("%j is one line, exit 2", async (args, line) => {
    const r = await runCli(args as string[], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(line);
  });

  it("keeps --help as it was", async () => {
    const r = await runCli(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: vbatch run \[options\] <input>/);
    expect(r.stderr).toBe("");
  });
});

describe("--priority against an engine without priority scheduling", () => {
  it("is refused once, before any row is sent, saying how to start vLLM", async () => {
    const s = await sim();
    const input = join(dir, "prio.jsonl");
    writeFileSync(
      input,
      `${[0, 1, 2].map((i) => JSON.stringify(chatRow(i, { model: "sim-model" }))).join("\n")}\n`,
    );
    const output = join(dir, "prio.out.jsonl");
    const r = await runCli(["run", input, "-o", output, "-e", s.url, "--priority", "5"]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      `vbatch: error: --priority 5: engine ${s.url} does not schedule by priority (it answered: Got priority 5 but Priority scheduling is not enabled.); start vLLM with --scheduling-policy priority, or drop --priority`,
    ]);
    expect(readJsonl(output)).toEqual([]);
    expect(readJsonl(join(dir, "prio.out.errors.jsonl"))).toEqual([]);
    expect(s.stats().received).toBeLessThanOrEqual(1); // the probe, never a row
  });

  it("runs when the engine schedules by priority", async () => {
    const s = await sim({ schedulingPolicy: "priority" });
    const input = join(dir, "prio-ok.jsonl");
    writeFileSync(
      input,
      `${[0, 1].map((i) => JSON.stringify(chatRow(i, { model: "sim-model" }))).join("\n")}\n`,
    );
    const output = join(dir, "prio-ok.out.jsonl");
    const r = await runCli(["run", input, "-o", output, "-e", s.url, "--priority", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readJsonl(output)).toHaveLength(2);
  });
});

const root = join(import.meta.dirname, "..");

describe("the README's quick start", () => {
  it("runs the example on the simulated engine: exit 0, every row answered once", async () => {
    const cwd = join(dir, "quickstart");
    mkdirSync(cwd);
    cpSync(join(root, "examples"), join(cwd, "examples"), { recursive: true });
    const r = await runCli(["run", "examples/quickstart.jsonl", "-o", "out.jsonl", "--launch", "sim"], {
      cwd,
    });
    expect(r.code, r.stderr).toBe(0);
    const asked = readJsonl(join(cwd, "examples", "quickstart.jsonl")).map((l) => l.custom_id);
    const out = readJsonl(join(cwd, "out.jsonl"));
    expect(out.map((l) => l.custom_id).sort()).toEqual([...asked].sort());
    expect(out.every((l) => l.response.status_code === 200 && l.error === null)).toBe(true);
    expect(readJsonl(join(cwd, "out.errors.jsonl"))).toEqual([]);
  });

  it("npm's prepare (run again by the first npx vbatch) leaves a dist/ built from these sources", async () => {
    // A copy of what the build reads, with a built dist/ and its stamp, as `npm ci` leaves them.
    const copy = join(dir, "checkout");
    for (const part of ["src", "scripts", "tsconfig.json", "tsconfig.build.json", "package.json"]) {
      cpSync(join(root, part), join(copy, part), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    mkdirSync(join(copy, "dist", "cli"), { recursive: true });
    writeFileSync(join(copy, "dist", "cli", "bin.js"), "// built\n");
    const { sourceStamp, stampPath } = await import("../scripts/build-stamp.mjs");
    writeFileSync(stampPath(copy), `${sourceStamp(copy)}\n`);
    const said = execFileSync(process.execPath, ["scripts/prepare.mjs"], { cwd: copy, stdio: "pipe" });
    expect(said.toString()).toBe("");
    expect(readFileSync(join(copy, "dist", "cli", "bin.js"), "utf8")).toBe("// built\n");
    // Any change to a source makes it build again.
    const before = sourceStamp(copy);
    writeFileSync(
      join(copy, "src", "errors.ts"),
      `${readFileSync(join(copy, "src", "errors.ts"), "utf8")}\n`,
    );
    expect(sourceStamp(copy)).not.toBe(before);
  });
});

describe("estimate --probe", () => {
  it("says what it is doing, in lines, when stderr is not a terminal", async () => {
    const s = await sim();
    const input = join(dir, "probe.jsonl");
    writeFileSync(
      input,
      `${[0, 1, 2, 3].map((i) => JSON.stringify(chatRow(i, { model: "sim-model" }))).join("\n")}\n`,
    );
    const r = await runCli(["estimate", input, "-e", s.url, "--probe", "3", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).throughput.probe.rows).toBe(3);
    const lines = said(r.stderr).split("\n");
    expect(lines[0]).toBe(`vbatch: estimate: counting prompt tokens in ${input} (${s.url}/tokenize)`);
    expect(lines).toContain(`vbatch: estimate: probing throughput with the first 3 rows on ${s.url}`);
    expect(lines.at(-1)).toMatch(/^vbatch: estimate: probe done: 3 rows in \d+\.\d s$/);
  });

  it("draws one progress line on a terminal", () => {
    expect(renderEstimateProgress({ phase: "counting", rows: 1200, how: "x" })).toBe(
      "counting prompt tokens: 1,200 rows",
    );
    const line = renderEstimateProgress({
      phase: "probing",
      rows: 40,
      done: 10,
      elapsedSec: 3,
      endpoint: "http://e",
    });
    expect(line).toBe("probing throughput: 10/40 rows, 0:03");
  });
});
