// A job's files are its own: a journal reused with another -o or --errors is refused touching
// nothing, a job moved with its journal still resumes, only files the job made are removed, and
// never a device or a file the user made.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { faultyFileOps } from "../src/io/faults.js";
import { runBatch } from "../src/job/run-batch.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, readJsonl, tempDir, writeChatInput, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0 });
let n = 0;
const fresh = () => {
  const d = join(dir, `case-${++n}`);
  mkdirSync(d);
  return d;
};

/** The one `vbatch:` line, and no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("vbatch: "));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |internal error/);
  return lines[0] as string;
}

const filesMeta = (journal: string) => {
  const db = new Database(journal, { readonly: true });
  try {
    return db.prepare("SELECT value FROM meta WHERE key = 'files'").pluck().get() as string | undefined;
  } finally {
    db.close();
  }
};

describe("a journal used with files that are not its job's", () => {
  it("refuses another -o or --errors touching nothing, and says which files it belongs to", async () => {
    const s = await sim();
    const d = fresh();
    const input = writeChatInput(join(d, "in.jsonl"), 60);
    const a = join(d, "a.jsonl");
    const journal = join(d, "j.db");
    expect((await runCli(["run", input, "-o", a, "--journal", journal, "-e", s.url])).code).toBe(0);
    const precious = join(d, "precious.jsonl");
    writeFileSync(precious, "x".repeat(50_000));
    const before = readFileSync(a);
    const r = await runCli(["run", input, "-o", precious, "--journal", journal, "-e", s.url]);
    expect(r.code).toBe(2);
    const line = oneLine(r.stderr);
    expect(line).toContain(`the journal ${journal} belongs to the job writing ${a}`);
    expect(line).toContain(`not -o ${precious}`);
    expect(line).toContain(`pass -o ${a}`);
    expect(readFileSync(precious, "utf8")).toBe("x".repeat(50_000));
    expect(readFileSync(a)).toEqual(before);
    // Another errors file is refused the same way.
    const other = join(d, "other.errors.jsonl");
    writeFileSync(other, "keep me\n");
    const e = await runCli(["run", input, "-o", a, "--journal", journal, "--errors", other, "-e", s.url]);
    expect(e.code).toBe(2);
    expect(oneLine(e.stderr)).toContain(`not --errors ${other}`);
    expect(readFileSync(other, "utf8")).toBe("keep me\n");
  });

  it("resumes a job whose directory was moved whole, and an old journal records its files on first use", async () => {
    const s = await sim({ faults: { errorRate: 0.3 } });
    const d = fresh();
    const job = join(d, "job");
    mkdirSync(job);
    const input = writeChatInput(join(d, "in.jsonl"), 80);
    const first = await runCli([
      "run",
      input,
      "-o",
      join(job, "out.jsonl"),
      "-e",
      s.url,
      "--max-attempts",
      "1",
    ]);
    expect(first.code).toBe(0);
    const moved = join(d, "moved");
    renameSync(job, moved);
    const out = join(moved, "out.jsonl");
    const errors = join(moved, "out.errors.jsonl");
    const [outBefore, errBefore] = [readFileSync(out), readFileSync(errors)];
    expect(errBefore.length).toBeGreaterThan(0);
    const again = await runCli(["run", input, "-o", out, "-e", s.url]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(outBefore);
    expect(readFileSync(errors)).toEqual(errBefore);
    expect(JSON.parse(filesMeta(join(moved, "out.vbatch.db")) ?? "{}").output.path).toBe(out);
    // A journal from before the record: it resumes, and records its files.
    const db = new Database(join(moved, "out.vbatch.db"));
    db.prepare("DELETE FROM meta WHERE key = 'files'").run();
    db.close();
    expect((await runCli(["run", input, "-o", out, "-e", s.url])).code).toBe(0);
    expect(filesMeta(join(moved, "out.vbatch.db"))).toContain(out);
  });
});

describe("the errors file", () => {
  it("--errors /dev/null or a FIFO is refused before anything is made, and left alone", async () => {
    const d = fresh();
    const input = writeChatInput(join(d, "in.jsonl"), 5);
    const fifo = join(d, "errors.fifo");
    execFileSync("mkfifo", [fifo]);
    for (const errors of ["/dev/null", fifo]) {
      const r = await runCli([
        "run",
        input,
        "-o",
        join(d, "out.jsonl"),
        "--errors",
        errors,
        "-e",
        "http://127.0.0.1:9",
      ]);
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toContain(`--errors ${errors} is not a regular file`);
    }
    expect(readdirSync(d).sort()).toEqual(["errors.fifo", "in.jsonl"]);
    expect(existsSync("/dev/null")).toBe(true);
  });

  it("an empty errors file the user made is kept at the end; one the job made is removed", async () => {
    const s = await sim();
    const d = fresh();
    const input = writeChatInput(join(d, "in.jsonl"), 20);
    const mine = join(d, "mine.errors.jsonl");
    writeFileSync(mine, "");
    const r = await runCli(["run", input, "-o", join(d, "a.jsonl"), "--errors", mine, "-e", s.url]);
    expect(r.code).toBe(0);
    expect(existsSync(mine)).toBe(true);
    const b = await runCli(["run", input, "-o", join(d, "b.jsonl"), "-e", s.url]);
    expect(b.code).toBe(0);
    expect(existsSync(join(d, "b.errors.jsonl"))).toBe(false);
  });

  it("a run that fails its first commit leaves no empty output or errors file it made", async () => {
    const s = await sim();
    const d = fresh();
    const input = writeJsonl(
      join(d, "in.jsonl"),
      Array.from({ length: 30 }, (_, i) => chatRow(i, { model: "sim-model" })),
    );
    const output = join(d, "out.jsonl");
    await expect(
      runBatch({ input, output, endpoints: [s.url], fileOps: faultyFileOps({ op: "commit", nth: 1 }) }),
    ).rejects.toMatchObject({ code: "io" });
    expect(readdirSync(d).sort()).toEqual(["in.jsonl", "out.vbatch.db"]);
    // The journal still has every row pending: the same run resumes.
    const again = await runBatch({ input, output, endpoints: [s.url] });
    expect(again.succeeded).toBe(30);
    expect(readJsonl(output)).toHaveLength(30);
  });
});
