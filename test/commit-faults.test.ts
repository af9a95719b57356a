// A failure walked through every step of every commit cycle of a real job: each write, fsync and
// journal commit fails in turn (with the error the OS or SQLite gives), and kill -9 lands on each
// step of a cycle in a child process. After each, the files hold exactly what the journal
// committed, and running the same job again ends byte-identical to a run nothing disturbed.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VbatchError } from "../src/errors.js";
import { type FaultOp, faultyFileOps } from "../src/io/faults.js";
import { runBatch } from "../src/job/run-batch.js";
import { type SimServer, startSim } from "../src/sim/index.js";
import { chatRow, tempDir, writeJsonl } from "./helpers/files.js";
import { committed, size } from "./helpers/journal.js";

const run = promisify(execFile);
const dir = tempDir();
const ROWS = 130;
const COMMIT_ROWS = 25; // 5 full cycles of 25 rows, then a final one of 5
let sim: SimServer;
let pristine: string;
let reference: string;
let counts: Record<FaultOp, number>;
let cases = 0;

/** Every 5th row names a model the engine does not serve: a final 404 for the errors file. */
function rows() {
  return Array.from({ length: ROWS }, (_, i) =>
    chatRow(i, { model: i % 5 === 4 ? "no-such-model" : "sim-model" }),
  );
}

/** Concurrency 1 answers rows in input order, so every run's commits hold the same rows. */
function options(d: string) {
  return {
    input: join(dir, "in.jsonl"),
    output: join(d, "out.jsonl"),
    endpoints: [sim.url],
    concurrency: 1,
    commitRows: COMMIT_ROWS,
    commitIntervalMs: 3_600_000,
    retryBaseMs: 1,
    retryMaxMs: 5,
  };
}

/** A copy of the pristine job: validated, every row pending, the same job id. */
function copyJob(): string {
  cases++;
  const d = join(dir, `case-${cases}`);
  cpSync(pristine, d, { recursive: true });
  return d;
}

/** The job's files as text, with the one wall-clock field (the engine's `created`) held still. */
function contents(d: string): string {
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  return `${read(join(d, "out.jsonl"))}--errors--\n${read(join(d, "out.errors.jsonl"))}`.replace(
    /"created":\d+/g,
    '"created":0',
  );
}

/** Disk as the journal says: no byte past a committed length, and a prefix of the reference. */
function expectConsistent(d: string): void {
  const c = committed(join(d, "out.vbatch.db"));
  expect(size(join(d, "out.jsonl"))).toBe(c.out);
  expect(size(join(d, "out.errors.jsonl"))).toBe(c.err);
  const [out, err] = contents(d).split("--errors--\n") as [string, string];
  const [refOut, refErr] = reference.split("--errors--\n") as [string, string];
  expect(refOut.startsWith(out)).toBe(true);
  expect(refErr.startsWith(err)).toBe(true);
  expect(out.split("\n").length - 1 + (err.split("\n").length - 1)).toBe(c.done);
}

beforeAll(async () => {
  sim = await startSim({ prefillMs: 0, stepMs: 0 });
  writeJsonl(join(dir, "in.jsonl"), rows());
  pristine = join(dir, "pristine");
  mkdirSync(pristine);
  // A run stopped before it starts: the input validated into a journal, nothing sent.
  const stopped = new AbortController();
  stopped.abort();
  await runBatch({ ...options(pristine), signal: stopped.signal });
  expect(committed(join(pristine, "out.vbatch.db")).done).toBe(0);
  const undisturbed = copyJob();
  const ops = faultyFileOps();
  const summary = await runBatch({ ...options(undisturbed), fileOps: ops });
  expect(summary).toMatchObject({ succeeded: 104, failed: 26 });
  reference = contents(undisturbed);
  counts = { ...ops.counts };
  // Six cycles, each writing and syncing both files.
  expect(counts.commit).toBe(6);
  expect(counts.fsync).toBe(12);
});

afterAll(async () => {
  await sim.close();
});

describe("a failure at every write, fsync and commit of a job", () => {
  const walk = (op: FaultOp) =>
    it(`${op}: fails with one io error, changes nothing, and the rerun ends as if undisturbed`, async () => {
      for (let nth = 1; nth <= counts[op]; nth++) {
        const d = copyJob();
        const ops = faultyFileOps({ op, nth });
        const err = await runBatch({ ...options(d), fileOps: ops }).catch((e: unknown) => e);
        expect(ops.fired).toBe(true);
        expect(err).toBeInstanceOf(VbatchError);
        expect((err as VbatchError).code).toBe("io");
        expect((err as VbatchError).message).toMatch(
          op === "commit" ? /journal .*disk is full/ : /EIO|ENOSPC/,
        );
        expectConsistent(d);
        const again = await runBatch(options(d));
        expect(again.succeeded + again.failed).toBe(ROWS);
        expect(contents(d)).toBe(reference);
      }
    });
  walk("write");
  walk("fsync");
  walk("commit");

  it("a failed cut of a crash's tail changes nothing; the next run cuts it", async () => {
    const d = copyJob();
    await runBatch({ ...options(d), commitRows: 1000 }).catch(() => {});
    // A crash's tail: bytes past the committed length.
    writeFileSync(join(d, "out.jsonl"), '{"torn":', { flag: "a" });
    const ops = faultyFileOps({ op: "truncate", nth: 1 });
    const err = await runBatch({ ...options(d), fileOps: ops }).catch((e: unknown) => e);
    expect(ops.fired).toBe(true);
    expect((err as VbatchError).message).toMatch(/cannot cut .*out\.jsonl back to its committed length/);
    const again = await runBatch(options(d));
    expect(again.succeeded + again.failed).toBe(ROWS);
    expect(contents(d)).toBe(reference);
  });
});

describe("kill -9 at every step of a commit cycle", () => {
  const child = join(import.meta.dirname, "fixtures", "run-with-fault.mjs");
  // The steps of cycle k: two writes, two fsyncs, the commit, and just after it.
  const steps = (k: number): [FaultOp, number][] => [
    ["write", 2 * k - 1],
    ["write", 2 * k],
    ["fsync", 2 * k - 1],
    ["fsync", 2 * k],
    ["commit", k],
    ["committed", k],
  ];
  for (const [label, cycle] of [
    ["the second cycle", 2],
    ["the final commit", 6],
  ] as const) {
    it(`${label}: the rerun sends only the uncommitted rows and ends as if undisturbed`, async () => {
      for (const [op, nth] of steps(cycle)) {
        const d = copyJob();
        const killed = await run(process.execPath, [child, JSON.stringify(options(d)), op, String(nth)]).then(
          () => null,
          (e: { signal?: string }) => e,
        );
        expect(killed?.signal).toBe("SIGKILL");
        const before = committed(join(d, "out.vbatch.db"));
        // A kill after the commit has the whole cycle; one before it has the one before.
        expect(before.done).toBe(
          op === "committed" ? Math.min(ROWS, cycle * COMMIT_ROWS) : (cycle - 1) * COMMIT_ROWS,
        );
        const again = await runBatch(options(d));
        expect(again.requests).toBe(ROWS - before.done);
        expect(contents(d)).toBe(reference);
      }
    });
  }
});
