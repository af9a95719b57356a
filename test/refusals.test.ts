// A run refused before it sends anything leaves the directory exactly as it found it (no lock
// file, journal, spool or empty output), and the advice it gives never puts earlier answers at
// risk: another -o first, and --restart only with what it would delete.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { tempDir, writeChatInput } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0 });
let n = 0;

/** A fresh directory holding in.jsonl (rows for sim-model) and gpt.jsonl (rows for gpt-4o). */
function fresh(): string {
  const d = join(dir, `r-${++n}`);
  mkdirSync(d);
  writeChatInput(join(d, "in.jsonl"), 20);
  writeChatInput(join(d, "gpt.jsonl"), 20, { model: "gpt-4o" });
  return d;
}

const listing = (d: string) => readdirSync(d).sort();

/** The one `vbatch:` line, and no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("vbatch: "));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |internal error/);
  return lines[0] as string;
}

describe("a run refused before it sends anything", () => {
  it("leaves the directory exactly as it found it, whatever refused it", async () => {
    const s = await sim();
    const cases: {
      what: string;
      args: (d: string) => string[];
      code: number;
      input?: string;
      env?: NodeJS.ProcessEnv;
    }[] = [
      {
        what: "a missing input",
        args: (d) => ["run", join(d, "missing.jsonl"), "-o", join(d, "out.jsonl"), "-e", s.url],
        code: 2,
      },
      {
        what: "no engine given",
        args: (d) => ["run", join(d, "in.jsonl"), "-o", join(d, "out.jsonl")],
        code: 2,
      },
      {
        what: "no modal CLI",
        args: (d) => ["run", join(d, "in.jsonl"), "-o", join(d, "out.jsonl"), "--launch", "modal", "-m", "m"],
        code: 2,
        env: { PATH: "/usr/bin:/bin" },
      },
      {
        what: "a model no engine serves",
        args: (d) => ["run", join(d, "gpt.jsonl"), "-o", join(d, "out.jsonl"), "-e", s.url],
        code: 2,
      },
      {
        what: "no engine answering",
        args: (d) => [
          "run",
          join(d, "in.jsonl"),
          "-o",
          join(d, "out.jsonl"),
          "-e",
          "http://127.0.0.1:9",
          "--engine-wait",
          "0",
        ],
        code: 1,
      },
      {
        what: "invalid input on stdin",
        args: (d) => ["run", "-", "-o", join(d, "out.jsonl"), "-e", s.url],
        code: 2,
        input: '{"custom_id":"a"}\n',
      },
    ];
    for (const c of cases) {
      const d = fresh();
      const before = listing(d);
      const r = await runCli(c.args(d), { input: c.input, env: c.env });
      expect(r.code, `${c.what}: ${r.stderr}`).toBe(c.code);
      oneLine(r.stderr);
      expect(listing(d), c.what).toEqual(before);
    }
    // And the same command, fixed, then runs: nothing a refusal left stands in its way.
    const d = fresh();
    expect((await runCli(["run", join(d, "gpt.jsonl"), "-o", join(d, "out.jsonl"), "-e", s.url])).code).toBe(
      2,
    );
    const ok = await runCli(["run", join(d, "in.jsonl"), "-o", join(d, "out.jsonl"), "-e", s.url]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe("an -o that another job already uses", () => {
  it("suggests another -o first, and says exactly what --restart would delete", async () => {
    const s = await sim();
    const d = fresh();
    const out = join(d, "ans.jsonl");
    expect((await runCli(["run", join(d, "in.jsonl"), "-o", out, "-e", s.url])).code).toBe(0);
    const answers = readFileSync(out);
    writeChatInput(join(d, "other.jsonl"), 5, { model: "sim-model", prefix: "other" });
    const r = await runCli(["run", join(d, "other.jsonl"), "-o", out, "-e", s.url]);
    expect(r.code).toBe(2);
    const line = oneLine(r.stderr);
    expect(line).toContain(
      `is not the input of the job that ${out} belongs to: that job started with ${join(d, "in.jsonl")}`,
    );
    expect(line).toContain("20 rows already answered");
    expect(line.indexOf("choose another -o")).toBeGreaterThan(-1);
    expect(line.indexOf("choose another -o")).toBeLessThan(line.indexOf("--restart"));
    expect(line).toContain(
      `--restart would delete ${out}, ${join(d, "ans.errors.jsonl")} and the journal ${join(d, "ans.vbatch.db")}`,
    );
    expect(readFileSync(out)).toEqual(answers);
    // An output without a journal: the same order of advice.
    const loose = join(d, "loose.jsonl");
    writeFileSync(loose, "not a job's\n");
    const l = await runCli(["run", join(d, "in.jsonl"), "-o", loose, "-e", s.url]);
    expect(l.code).toBe(2);
    const loneLine = oneLine(l.stderr);
    expect(loneLine).toMatch(
      /choose another -o for this job\. Only if .* is not needed: --restart would delete/,
    );
    expect(readFileSync(loose, "utf8")).toBe("not a job's\n");
  });
});
