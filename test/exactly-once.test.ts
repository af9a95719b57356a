// Every row ends exactly once under what real machines do: a write, fsync or journal commit that
// fails for real (strace injects the errno into a real run), two runs of one job at once, an
// input edited in place while it is read, a fatal error with requests in flight.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/job/run-batch.js";
import { simReplyText } from "../src/sim/index.js";
import { runCli, startCli } from "./helpers/cli.js";
import { chatRow, idCounts, readJsonl, tempDir, writeChatInput } from "./helpers/files.js";
import { committed, size } from "./helpers/journal.js";
import { useSims } from "./helpers/sims.js";
import { countSyscalls, hasStrace, runCliInjected } from "./helpers/strace.js";
import { until } from "./helpers/wait.js";

const dir = tempDir();
let n = 0;
const job = () => {
  n++;
  const base = join(dir, `eo-${n}`);
  return {
    input: `${base}.in.jsonl`,
    output: `${base}.out.jsonl`,
    errors: `${base}.out.errors.jsonl`,
    journal: `${base}.out.vbatch.db`,
  };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });

function expectEveryRowOnce(files: string[], total: number): void {
  const counts = idCounts(...files);
  expect(counts.size).toBe(total);
  const extra = [...counts.entries()].filter(([, c]) => c !== 1);
  expect(extra).toEqual([]);
}

/** The one line a failed command prints: no stack trace. */
function expectOneCleanLine(stderr: string): string {
  const errors = stderr.split("\n").filter((l) => l.startsWith("vbatch: "));
  expect(errors).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toContain("internal error");
  return errors[0] as string;
}

function outputLines(path: string): number {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;
}

describe.runIf(hasStrace)("a write, fsync or commit that fails for real (strace)", () => {
  it("EIO on the output's fsync: exit 1 naming the file; disk as before; the rerun has every row once", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 6000);
    const args = ["run", j.input, "-o", j.output, "-e", s.url];
    const r = await runCliInjected(args, { path: j.output, syscall: "fsync", error: "EIO", when: 3 });
    expect(r.code).toBe(1);
    const line = expectOneCleanLine(r.stderr);
    expect(line).toContain(j.output);
    expect(line).toMatch(/EIO|i\/o error/i);
    // Nothing past what the journal committed.
    const c = committed(j.journal);
    expect(size(j.output)).toBe(c.out);
    expect(outputLines(j.output)).toBe(c.done);
    const again = await runCli(args);
    expect(again.code).toBe(0);
    expectEveryRowOnce([j.output, j.errors], 6000);
  });

  it("ENOSPC on the journal's WAL mid-run: exit 1 naming the journal; the rerun has every row once", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 6000);
    // How many WAL writes the validation pass makes (it runs before any engine is asked).
    const ingestWrites = await countSyscalls(
      ["run", j.input, "-o", j.output, "-e", "http://127.0.0.1:9", "--engine-wait", "0"],
      `${j.journal}-wal`,
      "pwrite64",
      join(dir, "wal-count.log"),
    );
    expect(ingestWrites).toBeGreaterThan(0);
    for (const f of [j.output, j.errors, j.journal, `${j.journal}-wal`, `${j.journal}-shm`])
      rmSync(f, { force: true });
    const args = ["run", j.input, "-o", j.output, "-e", s.url];
    const r = await runCliInjected(args, {
      path: `${j.journal}-wal`,
      syscall: "pwrite64",
      error: "ENOSPC",
      when: ingestWrites + 6,
    });
    expect(r.code).toBe(1);
    const line = expectOneCleanLine(r.stderr);
    expect(line).toContain(j.journal);
    expect(line).toMatch(/full|ENOSPC|no space/i);
    const c = committed(j.journal);
    expect(size(j.output)).toBe(c.out);
    // No row failed: the errors file this run made and never committed to is not left behind.
    expect(c.err).toBe(0);
    expect(existsSync(j.errors)).toBe(false);
    const again = await runCli(args);
    expect(again.code).toBe(0);
    expectEveryRowOnce([j.output, j.errors], 6000);
  });
});

describe.runIf(hasStrace)("a journal that fails as it closes (strace)", () => {
  it("EIO on the final checkpoint's fsync: exit 1 naming the journal; every committed row kept; the rerun sends nothing", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 200);
    const args = ["run", j.input, "-o", j.output, "-e", s.url];
    // The journal file itself is fsynced when it is made and when it closes (the final checkpoint).
    const fsyncs = await countSyscalls(args, j.journal, "fsync", join(dir, "close-count.log"));
    expect(fsyncs).toBeGreaterThanOrEqual(2);
    for (const f of [j.output, j.errors, j.journal, `${j.journal}-wal`, `${j.journal}-shm`])
      rmSync(f, { force: true });
    const r = await runCliInjected(args, { path: j.journal, syscall: "fsync", error: "EIO", when: fsyncs });
    expect(r.code).toBe(1);
    const line = expectOneCleanLine(r.stderr);
    expect(line).toContain(`journal ${j.journal}: the final checkpoint failed`);
    expect(line).toMatch(/I\/O error/i);
    expect(committed(j.journal).done).toBe(200);
    expect(outputLines(j.output)).toBe(200);
    s.resetStats();
    const again = await runCli(args);
    expect(again.code).toBe(0);
    expect(s.stats().received).toBe(0);
    expectEveryRowOnce([j.output, j.errors], 200);
  });
});

describe("two runs of one job", () => {
  it("refuses the second at once (exit 2, pid and start time); the first finishes every row once", async () => {
    const s = await sim({ maxNumSeqs: 8, stepMs: 2, outputTokens: 8 });
    const j = job();
    writeChatInput(j.input, 3000);
    const args = ["run", j.input, "-o", j.output, "-e", s.url, "--concurrency", "8"];
    const first = startCli(args);
    await until("50 output lines", () => outputLines(j.output) > 50);
    const second = await runCli(args);
    expect(second.code).toBe(2);
    const line = expectOneCleanLine(second.stderr);
    expect(line).toContain("already running");
    expect(line).toContain(`pid ${first.child.pid}`);
    expect(line).toMatch(/since \d{4}-\d\d-\d\dT/);
    // The refused run touched nothing: the first one ends with every row once.
    const r1 = await first.done;
    expect(r1.code).toBe(0);
    expectEveryRowOnce([j.output, j.errors], 3000);
  });

  it("refuses --restart of a running job before it deletes anything", async () => {
    const s = await sim({ maxNumSeqs: 4, stepMs: 5, outputTokens: 8 });
    const j = job();
    writeChatInput(j.input, 1000);
    const args = ["run", j.input, "-o", j.output, "-e", s.url, "--concurrency", "4"];
    const first = startCli(args);
    await until("20 output lines", () => outputLines(j.output) > 20);
    const restart = await runCli([...args, "--restart"]);
    expect(restart.code).toBe(2);
    expect(expectOneCleanLine(restart.stderr)).toContain("already running");
    expect(existsSync(j.journal)).toBe(true);
    first.child.kill("SIGKILL");
    await first.done;
    const fast = await sim();
    expect((await runCli(["run", j.input, "-o", j.output, "-e", fast.url])).code).toBe(0);
    expectEveryRowOnce([j.output, j.errors], 1000);
  });

  it("refuses a second runBatch of the same job in the same process", async () => {
    const s = await sim({ maxNumSeqs: 4, stepMs: 5, outputTokens: 8 });
    const j = job();
    writeChatInput(j.input, 300);
    const first = runBatch({ input: j.input, output: j.output, endpoints: [s.url], concurrency: 4 });
    await until("a first commit", () => outputLines(j.output) > 0 || existsSync(`${j.journal}-wal`));
    await expect(runBatch({ input: j.input, output: j.output, endpoints: [s.url] })).rejects.toMatchObject({
      code: "job_running",
      exitCode: 2,
    });
    expect((await first).succeeded).toBe(300);
    expectEveryRowOnce([j.output, j.errors], 300);
  });

  it("a run killed with kill -9 leaves no lock behind: the next run resumes at once", async () => {
    const s = await sim({ maxNumSeqs: 8, stepMs: 2, outputTokens: 8 });
    const j = job();
    writeChatInput(j.input, 2000);
    const args = ["run", j.input, "-o", j.output, "-e", s.url, "--concurrency", "8"];
    const first = startCli(args);
    await until("50 output lines", () => outputLines(j.output) > 50);
    first.child.kill("SIGKILL");
    await first.done;
    const fast = await sim();
    const r = await runCli(["run", j.input, "-o", j.output, "-e", fast.url]);
    expect(r.code).toBe(0);
    expectEveryRowOnce([j.output, j.errors], 2000);
  });

  it("refuses retry and merge of a job that is running", async () => {
    const s = await sim({ maxNumSeqs: 4, stepMs: 5, outputTokens: 8 });
    const j = job();
    writeChatInput(j.input, 2000);
    const first = startCli(["run", j.input, "-o", j.output, "-e", s.url, "--concurrency", "4"]);
    await until("20 output lines", () => outputLines(j.output) > 20);
    const retry = await runCli(["retry", j.output, "-e", s.url]);
    expect(retry.code).toBe(2);
    expect(expectOneCleanLine(retry.stderr)).toContain("already running");
    const merge = await runCli(["merge", j.output, "-o", join(dir, `merged-${n}.jsonl`)]);
    expect(merge.code).toBe(2);
    expect(expectOneCleanLine(merge.stderr)).toContain("running");
    first.child.kill("SIGKILL");
    await first.done;
  });
});

describe("an input edited in place while the job runs", () => {
  const slow = { maxNumSeqs: 16, stepMs: 1, outputTokens: 4 };
  const rows = 20_000;

  async function editMidRun(edit: (input: string) => void) {
    const s = await sim(slow);
    const j = job();
    writeChatInput(j.input, rows);
    const original = readFileSync(j.input);
    const args = ["run", j.input, "-o", j.output, "-e", s.url, "--concurrency", "16"];
    const first = startCli(args);
    await until("200 output lines", () => outputLines(j.output) > 200);
    edit(j.input);
    const r = await first.done;
    return { j, s, r, original, args };
  }

  function expectStoppedCleanly(r: { code: number | null; stderr: string }) {
    expect(r.code).toBe(2);
    const line = expectOneCleanLine(r.stderr);
    expect(line).toMatch(/changed/);
    expect(r.stderr).toContain("--restart");
  }

  /** Every committed answer is the answer to the row as it was validated. */
  function expectAnswersMatchOriginal(output: string) {
    for (const l of readJsonl(output)) {
      const i = Number(String(l.custom_id).slice(4));
      expect(l.response.body.choices[0].message.content).toBe(
        simReplyText(chatRow(i, { model: "sim-model" }).body),
      );
    }
  }

  it("truncated in place: exit 2, committed rows kept, and restoring the file finishes the job", async () => {
    const { j, r, original, args } = await editMidRun((input) => {
      const text = readFileSync(input, "utf8");
      writeFileSync(input, text.slice(0, text.length / 2 - ((text.length / 2) % 1)));
    });
    expectStoppedCleanly(r);
    expectAnswersMatchOriginal(j.output);
    writeFileSync(j.input, original);
    // The rest of the job on an engine with no delay: the resume is what is under test here.
    const fast = await sim();
    const again = await runCli([...args.slice(0, 4), "-e", fast.url]);
    expect(again.code).toBe(0);
    expectEveryRowOnce([j.output, j.errors], rows);
    expectAnswersMatchOriginal(j.output);
  });

  it("rewritten in place at the same length: exit 2, and no answer to the new text is kept", async () => {
    const { j, r } = await editMidRun((input) => {
      // Same length, same ids, different questions: "question" becomes "QUESTION".
      writeFileSync(input, readFileSync(input, "utf8").replaceAll("question", "QUESTION"));
    });
    expectStoppedCleanly(r);
    expectAnswersMatchOriginal(j.output);
  });

  it("shuffled in place: exit 2 promptly, not a wait for --engine-wait", async () => {
    const { j, r } = await editMidRun((input) => {
      const lines = readFileSync(input, "utf8").trimEnd().split("\n");
      lines.reverse();
      writeFileSync(input, `${lines.join("\n")}\n`);
    });
    expectStoppedCleanly(r);
    expectAnswersMatchOriginal(j.output);
    const c = committed(j.journal);
    expect(size(j.output)).toBe(c.out);
  });
});

describe("a journal from the version before fingerprints and locks", () => {
  it("is read by status and resumed by run (its rows are sent unchecked)", async () => {
    const s = await sim();
    const j = job();
    writeChatInput(j.input, 400);
    const stop = new AbortController();
    await runBatch({
      input: j.input,
      output: j.output,
      endpoints: [s.url],
      concurrency: 2,
      commitIntervalMs: 5,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.succeeded >= 100) stop.abort();
      },
      progressIntervalMs: 5,
    });
    const db = new Database(j.journal);
    db.exec(
      "ALTER TABLE rows DROP COLUMN fp; DROP TABLE owner; UPDATE meta SET value = '2' WHERE key = 'version'",
    );
    db.close();
    const status = await runCli(["status", j.output, "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: "stopped", total: 400 });
    const r = await runCli(["run", j.input, "-o", j.output, "-e", s.url]);
    expect(r.code).toBe(0);
    expectEveryRowOnce([j.output, j.errors], 400);
  });
});

describe("an output file changed by another program while the job runs", () => {
  it("stops at the next commit without touching it, and the rerun refuses to build on it", async () => {
    const s = await sim({ maxNumSeqs: 8, stepMs: 2, outputTokens: 8 });
    const j = job();
    writeChatInput(j.input, 3000);
    const args = ["run", j.input, "-o", j.output, "-e", s.url, "--concurrency", "8"];
    const first = startCli(args);
    await until("50 output lines", () => outputLines(j.output) > 50);
    writeFileSync(j.output, "");
    const r = await first.done;
    expect(r.code).toBe(1);
    expect(expectOneCleanLine(r.stderr)).toMatch(
      /out\.jsonl was changed by another program while the job ran/,
    );
    // Left as the other program made it: no zeros, no lines appended after the cut.
    expect(readFileSync(j.output, "utf8")).toBe("");
    const again = await runCli(args);
    expect(again.code).toBe(1);
    expect(expectOneCleanLine(again.stderr)).toMatch(
      /is shorter .* than the journal's committed .*--restart/,
    );
  });
});

describe("hostile bytes in the input", () => {
  const deep = (levels: number) => `${"[".repeat(levels)}1${"]".repeat(levels)}`;

  it("a body nested thousands of levels deep is refused at validation with its line, or skipped", async () => {
    const s = await sim();
    const j = job();
    const good = JSON.stringify(chatRow(0, { model: "sim-model" }));
    const nested = `{"custom_id":"deep","method":"POST","url":"/v1/chat/completions","body":{"model":"sim-model","messages":[{"role":"user","content":"hi"}],"x":${deep(6000)}}}`;
    writeFileSync(j.input, `${good}\n${nested}\n`);
    const r = await runCli(["run", j.input, "-o", j.output, "-e", s.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2: .*nested deeper than/);
    expect(r.stderr).not.toMatch(/RangeError|\n\s+at /);
    const skip = await runCli(["run", j.input, "-o", j.output, "-e", s.url, "--skip-invalid"]);
    expect(skip.code).toBe(0);
    expect(readJsonl(j.output).map((l) => l.custom_id)).toEqual(["row-0"]);
    const errs = readJsonl(j.errors);
    expect(errs).toHaveLength(1);
    expect(errs[0].custom_id).toBe("deep");
    expect(errs[0].error.code).toBe("invalid_request");
  });

  it("sends each body's bytes as written: huge numbers and big integers arrive unchanged", async () => {
    const s = await sim({ trackRequests: true });
    const j = job();
    const body = `{"model":"sim-model","messages":[{"role":"user","content":"caf\\u00e9 \u00e9"}],"seed":123456789012345678901,"top_p":1e400,"max_tokens":4 , "n":1.0}`;
    writeFileSync(
      j.input,
      `{"custom_id":"raw","method":"POST","url":"/v1/chat/completions","body":${body}}\n`,
    );
    const r = await runCli(["run", j.input, "-o", j.output, "-e", s.url]);
    expect(r.code).toBe(0);
    const { createHash } = await import("node:crypto");
    const key = createHash("sha1").update(body).digest("hex").slice(0, 16);
    expect(s.stats().requestsByKey).toEqual({ [key]: 1 });
  });

  it("refuses invalid UTF-8 with its line number, also inside a custom_id", async () => {
    const j = job();
    const good = Buffer.from(`${JSON.stringify(chatRow(0, { model: "sim-model" }))}\n`);
    const badId = Buffer.concat([
      Buffer.from('{"custom_id":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","method":"POST","url":"/v1/chat/completions","body":{"messages":[]}}\n'),
    ]);
    const badText = Buffer.concat([
      Buffer.from(
        '{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"role":"user","content":"x',
      ),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}]}}\n'),
    ]);
    writeFileSync(j.input, Buffer.concat([good, badId, badText]));
    const r = await runCli(["run", j.input, "-o", j.output, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2: .*UTF-8/);
    expect(r.stderr).toMatch(/line 3: .*UTF-8/);
    expect(r.stderr).not.toContain("\ufffd");
  });

  it("never echoes raw control or escape bytes to the terminal", async () => {
    const j = job();
    writeFileSync(
      j.input,
      `{"custom_id":"\u001b[31mred\u001b]0;title\u0007","method":"POST"\n\u001b[2J{not json\n`,
    );
    const r = await runCli(["run", j.input, "-o", j.output, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("line 1:");
    expect(r.stderr).toContain("line 2:");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the test
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});
