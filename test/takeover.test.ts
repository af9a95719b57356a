// Two processes on one job after its lock file was deleted: the one that claimed the job last
// goes on, the other stops at its next write touching nothing, and a clean rerun finds every row
// in exactly one file once. The same for two `vbatch serve` on one --data directory.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { Journal } from "../src/journal/journal.js";
import { runCli, startCli } from "./helpers/cli.js";
import { readJsonl, tempDir, writeChatInput } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";
import { until } from "./helpers/wait.js";

const dir = tempDir();
let n = 0;
const job = () => {
  n++;
  const base = join(dir, `to-${n}`);
  return {
    input: `${base}.in.jsonl`,
    output: `${base}.out.jsonl`,
    errors: `${base}.out.errors.jsonl`,
    journal: `${base}.out.vbatch.db`,
  };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });

function outputLines(path: string): number {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;
}

/** custom_ids by final state, as the journal records them. */
function journalStates(path: string): { succeeded: string[]; failed: string[]; pending: number } {
  const db = new Database(path, { readonly: true });
  try {
    const ids = (state: number) =>
      (
        db.prepare("SELECT custom_id FROM rows WHERE state = ? ORDER BY line").pluck().all(state) as string[]
      ).sort();
    const pending = db.prepare("SELECT count(*) FROM rows WHERE state = 0").pluck().get() as number;
    return { succeeded: ids(1), failed: ids(2), pending };
  } finally {
    db.close();
  }
}

const idsIn = (path: string) =>
  readJsonl(path)
    .map((l) => l.custom_id as string)
    .sort();

describe("a job whose lock file is deleted while it runs", () => {
  it("the second run takes over, the first stops without touching its files, and a clean rerun has every row once", async () => {
    const slow = await sim({ maxNumSeqs: 8, stepMs: 2, outputTokens: 8 });
    const failing = await sim({ faults: { errorRate: 1 } });
    const j = job();
    const rows = 3000;
    writeChatInput(j.input, rows);
    const a = startCli(["run", j.input, "-o", j.output, "-e", slow.url, "--concurrency", "8"]);
    await until("a first commit", () => outputLines(j.output) > 50);
    rmSync(`${j.journal}.lock`);
    const b = await runCli(["run", j.input, "-o", j.output, "-e", failing.url, "--max-attempts", "1"]);
    const ra = await a.done;
    // The first run stopped at its next commit, with one line saying who took the job over.
    expect(ra.code, ra.stderr).toBe(1);
    expect(ra.stderr).toMatch(/vbatch: error: this job \(journal .*\) was taken over by pid \d+/);
    expect(ra.stderr).not.toMatch(/\n\s+at /);
    // The second one answered every row still pending (as failures) and kept the first's answers.
    expect(b.code, b.stderr).toBe(0);
    const states = journalStates(j.journal);
    expect(states.pending).toBe(0);
    expect(states.succeeded.length + states.failed.length).toBe(rows);
    expect(states.succeeded.length).toBeGreaterThan(50);
    // Each file holds exactly the rows the journal says it holds, each once.
    expect(idsIn(j.output)).toEqual(states.succeeded);
    expect(idsIn(j.errors)).toEqual(states.failed);
    // A clean rerun changes nothing: the job is done, and nothing was lost.
    const again = await runCli(["run", j.input, "-o", j.output, "-e", slow.url]);
    expect(again.code, again.stderr).toBe(0);
    expect(idsIn(j.output)).toEqual(states.succeeded);
    expect(idsIn(j.errors)).toEqual(states.failed);
  });
});

describe("the claim in the journal", () => {
  const offsets = () => ({ out: 0, err: 0 });

  it("refuses a commit, a cut and any write of a journal another process claimed since, before the files are touched", () => {
    const path = join(dir, "claim.db");
    const first = new Journal(path);
    const second = new Journal(path);
    try {
      first.claim("vbatch run");
      first.commit([], [], offsets);
      second.claim("vbatch run");
      let wrote = false;
      expect(() =>
        first.commit([], [], () => {
          wrote = true;
          return offsets();
        }),
      ).toThrow(expect.objectContaining({ code: "job_taken", exitCode: 1 }));
      expect(wrote).toBe(false);
      expect(() => first.whileHeld(() => (wrote = true))).toThrow(/was taken over by pid \d+/);
      expect(wrote).toBe(false);
      // Every other write of the first connection is refused too, before it changes anything.
      expect(() => first.setMeta({ tags: "{}" })).toThrow(expect.objectContaining({ code: "job_taken" }));
      expect(() => first.reset()).toThrow(expect.objectContaining({ code: "job_taken" }));
      second.commit([], [], offsets);
    } finally {
      first.close();
      second.close();
    }
  });

  it("refuses a commit when the committed lengths moved under it, or the journal file was replaced", () => {
    const path = join(dir, "moved.db");
    const mine = new Journal(path);
    const other = new Journal(path); // an older version's writer: it never claims
    try {
      mine.claim("vbatch run");
      other.setMeta({ out_offset: "999" });
      expect(() => mine.commit([], [], offsets)).toThrow(/committed lengths of its files changed under it/);
    } finally {
      other.close();
    }
    const replaced = new Journal(join(dir, "replaced.db"));
    try {
      replaced.claim("vbatch run");
      for (const f of ["", "-wal", "-shm"]) rmSync(join(dir, `replaced.db${f}`), { force: true });
      writeFileSync(join(dir, "replaced.db"), "");
      expect(() => replaced.commit([], [], offsets)).toThrow(/journal file was replaced/);
    } finally {
      replaced.close();
      mine.close();
    }
  });
});

describe("vbatch serve on one --data directory, its lock file deleted", () => {
  it("the second server takes over and the first stops with exit 1 and one line", async () => {
    const data = join(dir, "serve-data");
    const args = ["serve", "--data", data, "--port", "0", "--launch", "sim"];
    const a = startCli(args);
    await until("the first server listening", () => a.stdout().includes("listening on"));
    rmSync(join(data, "vbatch-serve.db.lock"));
    const b = startCli(args);
    await until("the second server listening", () => b.stdout().includes("listening on"));
    const ra = await a.done;
    expect(ra.code).toBe(1);
    expect(ra.stderr).toMatch(/vbatch: error: vbatch serve on .*serve-data was taken over by pid \d+/);
    // The second one goes on serving.
    const url = /listening on (http:\/\/\S+)/.exec(b.stdout())?.[1];
    const res = await fetch(`${url}/v1/batches`);
    expect(res.status).toBe(200);
    b.child.kill("SIGTERM");
    expect((await b.done).code).toBe(0);
  });
});
