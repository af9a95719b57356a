// The first commands a new user types, and the mistakes they make: each gets one clear line (exit 2
// for bad input) and loses nothing that was already there.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { chatRow, readJsonl, tempDir, writeChatInput, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const paths = () => {
  n++;
  return { input: join(dir, `fc-${n}.jsonl`), output: join(dir, `fc-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });

/** Exactly one `vbatch:` line on stderr, and no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("vbatch: "));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |internal error/);
  return lines[0] as string;
}

const rows = (count: number) =>
  `${Array.from({ length: count }, (_, i) => JSON.stringify(chatRow(i, { model: "sim-model" }))).join("\n")}\n`;

describe("inputs a new user has", () => {
  it("a truncated or corrupt .jsonl.gz: exit 2 naming the file", async () => {
    const gz = gzipSync(Buffer.from(rows(200)));
    const truncated = join(dir, "trunc.jsonl.gz");
    writeFileSync(truncated, gz.subarray(0, gz.length - 30));
    const corrupt = join(dir, "corrupt.jsonl.gz");
    writeFileSync(corrupt, Buffer.concat([gz.subarray(0, 20), Buffer.alloc(200, 7)]));
    for (const file of [truncated, corrupt]) {
      const r = await runCli(["run", file, "-o", join(dir, `gz-${++n}.jsonl`), "-e", "http://127.0.0.1:9"]);
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toContain(`${file} is not a readable gzip file`);
      const v = await runCli(["validate", file]);
      expect(v.code).toBe(2);
      expect(oneLine(v.stderr)).toContain("is not a readable gzip file");
    }
    const stdin = await runCli(["run", "-", "-o", join(dir, `gz-${++n}.jsonl`), "-e", "http://127.0.0.1:9"], {
      input: gz.subarray(0, gz.length - 30),
    });
    expect(stdin.code).toBe(2);
    expect(oneLine(stdin.stderr)).toContain("stdin is not a readable gzip stream");
  });

  it("a UTF-8 byte-order mark at the start of the file is accepted", async () => {
    const s = await sim();
    const p = paths();
    writeFileSync(p.input, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(rows(5))]));
    const v = await runCli(["validate", p.input, "--json"]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ rows: 5, problemCount: 0 });
    const r = await runCli(["run", p.input, "-o", p.output, "-e", s.url]);
    expect(r.code).toBe(0);
    expect(readJsonl(p.output)).toHaveLength(5);
  });

  it("validate - and estimate - read stdin", async () => {
    const v = await runCli(["validate", "-", "--json"], { input: rows(7) });
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ input: "stdin", rows: 7 });
    // A gzip stream on stdin is spotted by its magic bytes.
    const gz = await runCli(["validate", "-", "--json"], { input: gzipSync(rows(3)) });
    expect(gz.code).toBe(0);
    expect(JSON.parse(gz.stdout)).toMatchObject({ rows: 3 });
    const est = await runCli(["estimate", "-", "--json"], { input: rows(4) });
    expect(est.code, est.stderr).toBe(0);
    expect(JSON.parse(est.stdout)).toMatchObject({ input: "stdin", rows: 4 });
    const bad = await runCli(["validate", "-"], { input: '{"custom_id":"a"}\n{nope\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/line 2: malformed JSON/);
  });
});

describe("paths a new user gets wrong", () => {
  it("--journal pointing at the input, or at a file that is not a journal: exit 2, nothing touched", async () => {
    const p = paths();
    writeChatInput(p.input, 3);
    const before = readFileSync(p.input);
    const same = await runCli([
      "run",
      p.input,
      "-o",
      p.output,
      "--journal",
      p.input,
      "-e",
      "http://127.0.0.1:9",
    ]);
    expect(same.code).toBe(2);
    expect(oneLine(same.stderr)).toMatch(/would overwrite the input/);
    const notes = join(dir, "notes.txt");
    writeFileSync(notes, "my notes, not a database\n");
    const other = await runCli([
      "run",
      p.input,
      "-o",
      p.output,
      "--journal",
      notes,
      "-e",
      "http://127.0.0.1:9",
    ]);
    expect(other.code).toBe(2);
    expect(oneLine(other.stderr)).toContain(`${notes} is not a vbatch journal`);
    expect(readFileSync(notes, "utf8")).toBe("my notes, not a database\n");
    expect(readFileSync(p.input).equals(before)).toBe(true);
  });

  it("-o in a directory that does not exist names -o", async () => {
    const p = paths();
    writeChatInput(p.input, 3);
    const missing = join(dir, "no-such-dir", "out.jsonl");
    const r = await runCli(["run", p.input, "-o", missing, "-e", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toContain(
      `-o ${missing}: the directory ${join(dir, "no-such-dir")} does not exist`,
    );
    expect(existsSync(join(dir, "no-such-dir"))).toBe(false);
  });
});

describe("servers a new user starts", () => {
  it("vbatch sim on a port in use, or on a host that is not an address: one line naming the flag", async () => {
    const busy = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => busy.once("listening", r));
    const port = (busy.address() as { port: number }).port;
    try {
      const inUse = await runCli(["sim", "--port", String(port)]);
      expect(inUse.code).toBe(2);
      expect(
        oneLine(
          inUse.stderr
            .split("\n")
            .filter((l) => !l.startsWith("INFO"))
            .join("\n"),
        ),
      ).toContain(`--port ${port} is in use`);
      const badHost = await runCli(["sim", "--host", "256.1.1.1", "--port", "0"]);
      expect(badHost.code).toBe(2);
      expect(badHost.stderr).toContain("--host 256.1.1.1 is not an address this machine can listen on");
      const serve = await runCli([
        "serve",
        "--port",
        String(port),
        "--launch",
        "sim",
        "--data",
        join(dir, "sd"),
      ]);
      expect(serve.code).toBe(2);
      expect(serve.stderr).toContain(`--port ${port} is in use`);
    } finally {
      busy.close();
    }
  });
});

describe("what scripts and schedulers need", () => {
  it("--max-failed: exit 3 when more rows than allowed end in the errors file", async () => {
    const s = await sim();
    const p = paths();
    writeJsonl(p.input, [
      ...Array.from({ length: 18 }, (_, i) => chatRow(i, { model: "sim-model" })),
      chatRow(100, { model: "nope" }),
      chatRow(101, { model: "nope" }),
    ]);
    const ok = await runCli(["run", p.input, "-o", p.output, "-e", s.url, "--max-failed", "2"]);
    expect(ok.code).toBe(0);
    const p2 = paths();
    writeFileSync(p2.input, readFileSync(p.input));
    const tooMany = await runCli(["run", p2.input, "-o", p2.output, "-e", s.url, "--max-failed", "5%"]);
    expect(tooMany.code).toBe(3);
    expect(tooMany.stderr).toContain(
      "2 rows ended in the errors file, more than --max-failed allows (5% of 20 lines)",
    );
    const bad = await runCli(["run", p2.input, "-o", p2.output, "-e", s.url, "--max-failed", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-failed takes a row count/);
  });

  it("build and merge refuse to replace a file unless --force; merge leaves no empty errors file", async () => {
    const d = join(dir, "bm");
    mkdirSync(d);
    writeFileSync(join(d, "t.txt"), "Summarize: {{text}}");
    writeFileSync(join(d, "rows.csv"), "text\nhello\nworld\n");
    const out = join(d, "batch.jsonl");
    writeFileSync(out, "keep me\n");
    const args = [
      "build",
      "--template",
      join(d, "t.txt"),
      "--rows",
      join(d, "rows.csv"),
      "-m",
      "sim-model",
      "-o",
      out,
    ];
    const refused = await runCli(args);
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toContain(`-o ${out} already exists: pass --force`);
    expect(readFileSync(out, "utf8")).toBe("keep me\n");
    expect((await runCli([...args, "--force"])).code).toBe(0);
    expect(readJsonl(out)).toHaveLength(2);

    const s = await sim();
    const shard = join(d, "shard.out.jsonl");
    expect((await runCli(["run", out, "-o", shard, "-e", s.url])).code).toBe(0);
    const merged = join(d, "all.jsonl");
    const stale = join(d, "all.errors.jsonl");
    writeFileSync(merged, "old\n");
    const refusedMerge = await runCli(["merge", shard, "-o", merged]);
    expect(refusedMerge.code).toBe(2);
    expect(refusedMerge.stderr).toContain(`-o ${merged} already exists: pass --force`);
    writeFileSync(stale, ""); // an empty errors file from before
    const forced = await runCli(["merge", shard, "-o", merged, "--force"]);
    expect(forced.code).toBe(0);
    expect(readJsonl(merged)).toHaveLength(2);
    expect(existsSync(stale)).toBe(false);
  });
});
