// `vbatch run` as a user runs it: a real child process, real signals, exit codes and messages.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { startSim } from "../src/sim/index.js";
import { BIN, runCli, startCli } from "./helpers/cli.js";
import {
  chatRow,
  idCounts,
  readJsonl,
  requestKey,
  tempDir,
  writeChatInput,
  writeJsonl,
} from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const paths = () => {
  n++;
  return { input: join(dir, `cli-${n}.jsonl`), output: join(dir, `cli-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });

/** A port nothing listens on (yet). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitForLines(file: string, lines: number): Promise<void> {
  for (;;) {
    if (existsSync(file) && readFileSync(file, "utf8").split("\n").length > lines) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function committedLines(journal: string): number[] {
  const db = new Database(journal, { readonly: true });
  try {
    return (db.prepare("SELECT line FROM rows WHERE state != 0").pluck().all() as number[]).sort(
      (a, b) => a - b,
    );
  } finally {
    db.close();
  }
}

describe("vbatch run (CLI)", () => {
  it("the built bin runs as a program, as `npx vbatch` runs it (the build marks it executable)", async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8"));
    expect(pkg.scripts.build).toContain("scripts/mark-bin.mjs");
    expect(statSync(BIN).mode & 0o111).toBe(0o111);
    const r = await runCli(["--version"], { command: BIN });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("prints help and exits 0", async () => {
    const r = await runCli(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--endpoint/);
  });

  it("exits 2 with a clear message for bad flags", async () => {
    const p = paths();
    writeChatInput(p.input, 1);
    const noOut = await runCli(["run", p.input, "--endpoint", "http://127.0.0.1:9"]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--output/);
    const badC = await runCli([
      "run",
      p.input,
      "-o",
      p.output,
      "-e",
      "http://127.0.0.1:9",
      "--concurrency",
      "0",
    ]);
    expect(badC.code).toBe(2);
    expect(badC.stderr).toMatch(/--concurrency takes an integer >= 1/);
    const badUrl = await runCli(["run", p.input, "-o", p.output, "-e", "ftp://x"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/--endpoint "ftp:\/\/x" must be http/);
    const none = await runCli(["run", p.input, "-o", p.output]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no engine/);
  });

  it("exits 1 when no engine is reachable within --engine-wait", async () => {
    const p = paths();
    writeChatInput(p.input, 1);
    const r = await runCli([
      "run",
      p.input,
      "-o",
      p.output,
      "-e",
      "http://127.0.0.1:9",
      "--engine-wait",
      "1",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no engine reachable after waiting 1 s \(--engine-wait\)/);
    expect(r.stderr).toMatch(/waiting for the engines to accept connections/);
  });

  it("waits for an engine that is still loading (refusing connections), then runs the job", async () => {
    const port = await freePort();
    const p = paths();
    writeChatInput(p.input, 50);
    const run = startCli(["run", p.input, "-o", p.output, "-e", `http://127.0.0.1:${port}`, "--json"]);
    while (!run.stderr().includes("waiting for the engines to accept connections"))
      await new Promise((r) => setTimeout(r, 20));
    await sim({ port });
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ succeeded: 50 });
  });

  it("refuses an input whose models no engine serves; --model-map renames them", async () => {
    const s = await sim();
    const p = paths();
    writeChatInput(p.input, 30, { model: "gpt-4o" });
    const r = await runCli(["run", p.input, "-o", p.output, "-e", s.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no engine serves the model this input names; the engines serve "sim-model"/);
    expect(r.stderr).toContain('"gpt-4o": 30 rows, first on line 1');
    expect(r.stderr).toContain("--model-map");
    expect(s.stats().received).toBe(0);
    const mapped = await runCli([
      "run",
      p.input,
      "-o",
      p.output,
      "-e",
      s.url,
      "--model-map",
      "gpt-4o=sim-model",
      "--json",
    ]);
    expect(mapped.code).toBe(0);
    expect(JSON.parse(mapped.stdout)).toMatchObject({ succeeded: 30, failed: 0 });
    const bad = await runCli(["run", p.input, "-o", p.output, "-e", s.url, "--model-map", "gpt-4o"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--model-map "gpt-4o": expected FROM=TO/);
  });

  it("says up front when only some rows name a served model, and runs the rest", async () => {
    const s = await sim();
    const p = paths();
    writeJsonl(p.input, [
      ...Array.from({ length: 8 }, (_, i) => chatRow(i, { model: "sim-model" })),
      ...Array.from({ length: 2 }, (_, i) => chatRow(100 + i, { model: "llama-70b" })),
    ]);
    const r = await runCli(["run", p.input, "-o", p.output, "-e", s.url, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/2 rows name a model no engine serves/);
    expect(JSON.parse(r.stdout)).toMatchObject({ succeeded: 8, failed: 2 });
  });

  it("refuses each kind of invalid line, naming its line, before sending anything", async () => {
    const s = await sim();
    const p = paths();
    const good = (i: number) => JSON.stringify(chatRow(i, { model: "sim-model" }));
    writeJsonl(p.input, [
      good(0),
      "{not json",
      JSON.stringify({ method: "POST", url: "/v1/chat/completions", body: {} }),
      good(0),
      JSON.stringify({ custom_id: "u", method: "POST", url: "/v1/images/generations", body: {} }),
      JSON.stringify({ custom_id: "m", method: "GET", url: "/v1/chat/completions", body: {} }),
      JSON.stringify({ custom_id: "b", method: "POST", url: "/v1/chat/completions", body: [1] }),
      "",
      good(1),
    ]);
    const r = await runCli(["run", p.input, "-o", p.output, "-e", s.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("6 invalid lines");
    expect(r.stderr).toContain("line 2: malformed JSON");
    expect(r.stderr).toContain("line 3: missing custom_id");
    expect(r.stderr).toContain('line 4: duplicate custom_id "row-0" (first on line 1)');
    expect(r.stderr).toContain('line 5: unsupported url "/v1/images/generations"');
    expect(r.stderr).toContain('line 6: unsupported method "GET"');
    expect(r.stderr).toContain("line 7: body must be a JSON object");
    expect(r.stderr).toContain("--skip-invalid");
    expect(s.stats().received).toBe(0);
    expect(existsSync(p.output) && statSync(p.output).size > 0).toBe(false);

    const skip = await runCli(["run", p.input, "-o", p.output, "-e", s.url, "--skip-invalid"]);
    expect(skip.code).toBe(0);
    expect(
      readJsonl(p.output)
        .map((l) => l.custom_id)
        .sort(),
    ).toEqual(["row-0", "row-1"]);
    const errs = readJsonl(join(dir, `cli-${n}.out.errors.jsonl`));
    expect(errs).toHaveLength(6);
    for (const e of errs) {
      expect(e.response).toBeNull();
      expect(e.error.code).toBe("invalid_request");
      expect(e.error.message).toMatch(/^line \d+: /);
    }
  });

  it("lists the first 20 problems, then a count", async () => {
    const p = paths();
    writeJsonl(
      p.input,
      Array.from({ length: 25 }, () => "nope"),
    );
    const r = await runCli(["run", p.input, "-o", p.output, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("25 invalid lines");
    expect(r.stderr).toContain("line 20: malformed JSON");
    expect(r.stderr).not.toContain("line 21:");
    expect(r.stderr).toContain("... and 5 more");
  });

  it("refuses an empty file", async () => {
    const p = paths();
    writeFileSync(p.input, "\n\n");
    const r = await runCli(["run", p.input, "-o", p.output, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no request lines \(empty file\)/);
  });

  it("reads stdin with -, prints --json on stdout", async () => {
    const s = await sim();
    const p = paths();
    const rows = Array.from({ length: 30 }, (_, i) => JSON.stringify(chatRow(i, { model: "sim-model" })));
    const r = await runCli(["run", "-", "-o", p.output, "-e", s.url, "--json"], {
      input: `${rows.join("\n")}\n`,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ succeeded: 30, failed: 0 });
    expect(readJsonl(p.output)).toHaveLength(30);
  });

  it("after kill -9 mid-job, the same command finishes: no duplicate, no torn line, no finished row re-sent", async () => {
    const s = await sim({ maxNumSeqs: 16, stepMs: 1, outputTokens: 8, trackRequests: true });
    const p = paths();
    const total = 2500;
    writeChatInput(p.input, total);
    const args = ["run", p.input, "-o", p.output, "-e", s.url, "--concurrency", "32"];
    const first = startCli(args);
    await waitForLines(p.output, 300);
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.signal).toBe("SIGKILL");
    const journal = join(dir, `cli-${n}.out.vbatch.db`);
    const finishedBefore = committedLines(journal);
    expect(finishedBefore.length).toBeGreaterThan(0);
    expect(finishedBefore.length).toBeLessThan(total);

    const second = await runCli([...args, "--json"]);
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout);
    expect(summary).toMatchObject({ succeeded: total, resumed: finishedBefore.length });
    const text = readFileSync(p.output, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const counts = idCounts(p.output);
    expect(counts.size).toBe(total);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    const byKey = s.stats().requestsByKey ?? {};
    for (const line of finishedBefore) {
      const body = chatRow(line - 1, { model: "sim-model" }).body;
      expect(byKey[requestKey(body)]).toBe(1);
    }
  });

  it("Ctrl-C stops taking rows, exits 130, and the same command completes the job", async () => {
    const s = await sim({ maxNumSeqs: 8, stepMs: 1, outputTokens: 8 });
    const p = paths();
    const total = 2000;
    writeChatInput(p.input, total);
    const args = ["run", p.input, "-o", p.output, "-e", s.url, "--concurrency", "16", "--json"];
    const first = startCli(args);
    await waitForLines(p.output, 100);
    first.child.kill("SIGINT");
    const r1 = await first.done;
    expect(r1.code).toBe(130);
    expect(r1.stderr).toMatch(/re-run the same command to resume/);
    const s1 = JSON.parse(r1.stdout);
    expect(s1.interrupted).toBe(true);
    expect(readJsonl(p.output)).toHaveLength(s1.succeeded);
    const r2 = await runCli(args);
    expect(r2.code).toBe(0);
    const s2 = JSON.parse(r2.stdout);
    expect(s2).toMatchObject({ succeeded: total, resumed: s1.succeeded, requests: total - s1.succeeded });
    expect([...idCounts(p.output).values()].every((c) => c === 1)).toBe(true);
  });

  it("a second Ctrl-C exits at once, still consistent on disk", async () => {
    // Requests take 10 s, far longer than the gap between the two signals: the drain that the
    // first Ctrl-C starts is still waiting when the second one arrives.
    const slow = await sim({ maxNumSeqs: 8, stepMs: 1000, outputTokens: 10 });
    const p = paths();
    writeChatInput(p.input, 200);
    const first = startCli([
      "run",
      p.input,
      "-o",
      p.output,
      "-e",
      slow.url,
      "--concurrency",
      "8",
      "--log-level",
      "info",
    ]);
    for (;;) {
      if (slow.stats().received >= 8) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    first.child.kill("SIGINT");
    for (;;) {
      if (first.stderr().includes("finishing in-flight rows")) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    first.child.kill("SIGINT");
    const r1 = await first.done;
    expect(r1.code).toBe(130);
    expect(r1.stderr).toMatch(/exiting now/);
    const s = await sim();
    const args = ["run", p.input, "-o", p.output, "-e", s.url];
    const r2 = await runCli([...args, "--json"]);
    expect(r2.code).toBe(0);
    const counts = idCounts(p.output);
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });
});

describe("--endpoints-file", () => {
  it("reads one URL a line, and names the file and line of a bad one", async () => {
    const s = await startSim({ prefillMs: 0, stepMs: 0 });
    try {
      const p = paths();
      writeChatInput(p.input, 5);
      const good = join(dir, "engines.txt");
      writeFileSync(good, `# engines\n\n${s.url}/v1\n`);
      const r = await runCli(["run", p.input, "-o", p.output, "--endpoints-file", good]);
      expect(r.code).toBe(0);
      expect(readJsonl(p.output)).toHaveLength(5);
      const bad = join(dir, "bad-engines.txt");
      writeFileSync(bad, `${s.url}\nnot a url\n`);
      const r2 = await runCli(["run", p.input, "-o", join(dir, "x.jsonl"), "--endpoints-file", bad]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain(`${bad}:2:`);
    } finally {
      await s.close();
    }
  });
});
