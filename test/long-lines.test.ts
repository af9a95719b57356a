// A line longer than --max-line-mb is refused by its number, in bounded memory, from a plain
// file, a .gz or stdin; with --skip-invalid it goes to the errors file like any bad line.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type InputLine, readLineBatches } from "../src/input/lines.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, readJsonl, tempDir } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
const sim = useSims({ prefillMs: 0, stepMs: 0 });

async function read(chunks: Buffer[], cap: number): Promise<InputLine[]> {
  const out: InputLine[] = [];
  for await (const b of readLineBatches(Readable.from(chunks), undefined, cap)) out.push(...b);
  return out;
}

const summary = (lines: InputLine[]) =>
  lines.map((l) => (l.tooLong ? `${l.lineNo}:tooLong ${l.tooLong.bytes}` : `${l.lineNo}:${l.text}`));

describe("readLineBatches with a cap", () => {
  it("marks a line just over the cap by its number, whole or split across chunks, and keeps the rest", async () => {
    const text = `{"a":1}\n${"x".repeat(11)}\r\n\n${"y".repeat(10)}\n{"b":2}`;
    const bytes = Buffer.from(text);
    const expected = ['1:{"a":1}', "2:tooLong 11", `4:${"y".repeat(10)}`, '5:{"b":2}'];
    expect(summary(await read([bytes], 10))).toEqual(expected);
    // One byte at a time: every line is built from pieces.
    const single = [...bytes].map((b) => Buffer.from([b]));
    expect(summary(await read(single, 10))).toEqual(expected);
    // A last line without a line break, over the cap.
    expect(summary(await read([Buffer.from(`{"a":1}\n${"z".repeat(30)}`)], 10))).toEqual([
      '1:{"a":1}',
      "2:tooLong 30",
    ]);
  });

  it("holds no more than the cap of a line that never ends", async () => {
    const chunk = Buffer.alloc(1 << 20, 0x61); // the same 1 MiB, again and again: reading it allocates nothing
    const total = 64;
    function* endless() {
      for (let i = 0; i < total; i++) yield chunk;
      yield Buffer.from('\n{"after":1}\n');
    }
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const out: InputLine[] = [];
    for await (const b of readLineBatches(
      Readable.from(endless()),
      () => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      },
      4 << 20,
    ))
      out.push(...b);
    // Joining the pieces of the line as they came would hold all 64 MiB.
    expect(peak).toBeLessThan(32 << 20);
    expect(summary(out)).toEqual([`1:tooLong ${total << 20}`, '2:{"after":1}']);
  });
});

const CAP_MB = "0.01"; // 10,486 bytes
const rowText = (i: number) => JSON.stringify(chatRow(i, { model: "sim-model" }));
const longRow = (i: number) =>
  JSON.stringify({ ...chatRow(i, { model: "sim-model" }), pad: "p".repeat(11_000) });

function writeInput(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("--max-line-mb", () => {
  const lines = [rowText(0), longRow(1), rowText(2)];

  it("validate refuses a line over the cap with its number, from a file, a .gz and stdin", async () => {
    const input = writeInput("v.jsonl", lines);
    const expected = /line 2: line is 11,\d{3} bytes, longer than the 0\.01 MB limit \(--max-line-mb\)/;
    const plain = await runCli(["validate", input, "--max-line-mb", CAP_MB]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(expected);
    const gz = join(dir, "v.jsonl.gz");
    writeFileSync(gz, gzipSync(`${lines.join("\n")}\n`));
    const fromGz = await runCli(["validate", gz, "--max-line-mb", CAP_MB]);
    expect(fromGz.code).toBe(2);
    expect(fromGz.stderr).toMatch(expected);
    const fromStdin = await runCli(["validate", "-", "--max-line-mb", CAP_MB], {
      input: `${lines.join("\n")}\n`,
    });
    expect(fromStdin.code).toBe(2);
    expect(fromStdin.stderr).toMatch(expected);
    // Under the default cap the same file is fine.
    expect((await runCli(["validate", input])).code).toBe(0);
  });

  it("run refuses it before sending anything; --skip-invalid sends the rest and records it without a custom_id", async () => {
    const s = await sim();
    const input = writeInput("r.jsonl", lines);
    const output = join(dir, "r.out.jsonl");
    const refused = await runCli(["run", input, "-o", output, "-e", s.url, "--max-line-mb", CAP_MB]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/line 2: line is 11,\d{3} bytes, longer than the 0\.01 MB limit/);
    expect(s.stats().received).toBe(0);
    const args = ["run", input, "-o", output, "-e", s.url, "--max-line-mb", CAP_MB, "--skip-invalid"];
    const ok = await runCli(args);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readJsonl(output).map((l) => l.custom_id)).toEqual(["row-0", "row-2"]);
    const [err] = readJsonl(join(dir, "r.out.errors.jsonl"));
    expect(err.custom_id).toBeNull();
    expect(err.error.code).toBe("invalid_request");
    expect(err.error.message).toMatch(/^line 2: line is 11,\d{3} bytes, longer than .*custom_id is not read/);
    // A resumed job keeps the limit it was validated with: another one is refused, not ignored.
    const other = await runCli([
      "run",
      input,
      "-o",
      output,
      "-e",
      s.url,
      "--max-line-mb",
      "1",
      "--skip-invalid",
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/validated its input with --max-line-mb 0\.01 MB, not 1 MB/);
    expect((await runCli(["run", input, "-o", output, "-e", s.url, "--skip-invalid"])).code).toBe(0);
  });
});
