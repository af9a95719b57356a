// vbatch merge: shard outputs written by hand (as three `vbatch run --shard i/3` would) combine into
// the whole; every custom_id once, input order on request, duplicates/missing/strangers refused.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { shardOf } from "../src/shard/shard.js";
import { mergeOutputs } from "../src/tools/merge/index.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, readJsonl, tempDir, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let n = 0;
const p = (name: string) => join(dir, `${++n}-${name}`);

const ok = (id: string) => ({
  id: `batch_req_${id}`,
  custom_id: id,
  response: { status_code: 200, request_id: `r-${id}`, body: { answer: id } },
  error: null,
});
const httpFail = (id: string) => ({
  id: `batch_req_${id}`,
  custom_id: id,
  response: { status_code: 400, request_id: `r-${id}`, body: { error: { message: "too long" } } },
  error: null,
});
const fail = (id: string) => ({
  id: `batch_req_${id}`,
  custom_id: id,
  response: null,
  error: { code: "x", message: "gone" },
});

/** An input of `rows` rows and three shard outputs (with errors files) covering it. */
function shards(rows: number, opts: { gzipFirst?: boolean } = {}) {
  const input = writeJsonl(
    p("in.jsonl"),
    Array.from({ length: rows }, (_, i) => chatRow(i)),
  );
  const outs: string[] = [];
  for (let s = 0; s < 3; s++) {
    const base = p(`shard${s}`);
    const mine = Array.from({ length: rows }, (_, i) => `row-${i}`).filter((id) => shardOf(id, 3) === s);
    // completion order differs from input order: reversed
    const good = mine
      .filter((id) => Number(id.slice(4)) % 7 !== 3)
      .reverse()
      .map(ok);
    const bad = mine
      .filter((id) => Number(id.slice(4)) % 7 === 3)
      .map((id, k) => (k % 2 ? fail(id) : httpFail(id)));
    let out = `${base}.jsonl`;
    if (s === 0 && opts.gzipFirst) {
      out = `${base}.jsonl.gz`;
      writeFileSync(out, gzipSync(`${good.map((l) => JSON.stringify(l)).join("\n")}\n`));
    } else writeJsonl(out, good);
    writeJsonl(`${base}.errors.jsonl`, bad);
    outs.push(out);
  }
  return { input, outs };
}

const ids = (file: string) => readJsonl(file).map((l) => l.custom_id as string);
const inputOrder = (rows: number, pred: (i: number) => boolean) =>
  Array.from({ length: rows }, (_, i) => i)
    .filter(pred)
    .map((i) => `row-${i}`);

describe("mergeOutputs", () => {
  it("three shard outputs merge into the whole (completion order), errors files included", async () => {
    const { input, outs } = shards(60);
    const output = p("merged.jsonl");
    const r = await mergeOutputs({ outputs: outs, output, input });
    const failures = inputOrder(60, (i) => i % 7 === 3);
    expect(r).toMatchObject({
      succeeded: 60 - failures.length,
      failed: failures.length,
      inputRows: 60,
      order: "completion",
      unkeyed: 0,
    });
    expect(r.sources).toHaveLength(6);
    expect(r.errors).toBe(output.replace(/\.jsonl$/, ".errors.jsonl"));
    expect(new Set(ids(output))).toEqual(new Set(inputOrder(60, (i) => i % 7 !== 3)));
    expect(new Set(ids(r.errors))).toEqual(new Set(failures));
    // completion order is concatenation: shard 0's lines first, as written
    expect(ids(output).slice(0, 3)).toEqual(ids(outs[0] as string).slice(0, 3));
    // lines are copied byte for byte
    const firstShardLine = readFileSync(outs[0] as string, "utf8").split("\n")[0];
    expect(readFileSync(output, "utf8").split("\n")[0]).toBe(firstShardLine);
  });

  it("--order input writes both files in the input's order (a gzipped shard too)", async () => {
    const { input, outs } = shards(50, { gzipFirst: true });
    const output = p("ordered.jsonl");
    const errorsOut = p("ordered-failures.jsonl");
    const r = await mergeOutputs({ outputs: outs, output, input, order: "input", errorsOut });
    expect(r.errors).toBe(errorsOut);
    expect(ids(output)).toEqual(inputOrder(50, (i) => i % 7 !== 3));
    expect(ids(errorsOut)).toEqual(inputOrder(50, (i) => i % 7 === 3));
    expect(readJsonl(output)[0]).toEqual(ok("row-0"));
  });

  it("refuses duplicates naming both places, and writes nothing", async () => {
    const { input, outs } = shards(20);
    const extra = writeJsonl(p("extra.jsonl"), [ok("row-4"), ok("row-5")]);
    const output = p("dup.jsonl");
    const err = await mergeOutputs({ outputs: [...outs, extra], output }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "invalid_input",
      exitCode: 2,
      message: "merge refused: 2 duplicate custom_ids",
    });
    const details = (err as { details: string[] }).details;
    expect(details[0]).toMatch(
      new RegExp(
        `^duplicate custom_id "row-4": .*shard\\d\\.(errors\\.)?jsonl line \\d+ and ${extra} line 1$`,
      ),
    );
    expect(details.at(-1)).toBe("Nothing was written.");
    expect(existsSync(output)).toBe(false);
    expect(existsSync(output.replace(/\.jsonl$/, ".errors.jsonl"))).toBe(false);
    // with the input, the same holds
    await expect(mergeOutputs({ outputs: [...outs, extra], output, input })).rejects.toMatchObject({
      code: "invalid_input",
    });
  });

  it("with --input: missing rows (first 20 + count) and strangers are refused", async () => {
    const input = writeJsonl(
      p("in.jsonl"),
      Array.from({ length: 40 }, (_, i) => chatRow(i)),
    );
    const a = writeJsonl(
      p("a.jsonl"),
      Array.from({ length: 15 }, (_, i) => ok(`row-${i}`)),
    );
    const b = writeJsonl(p("b.jsonl"), [ok("stranger")]);
    const err = (await mergeOutputs({ outputs: [a, b], output: p("m.jsonl"), input }).catch(
      (e: unknown) => e,
    )) as {
      message: string;
      details: string[];
    };
    expect(err.message).toBe("merge refused: 25 input rows without a result, 1 result not in the input");
    expect(err.details[0]).toBe(`missing custom_id "row-15" (${input} line 16)`);
    expect(err.details[19]).toBe(`missing custom_id "row-34" (${input} line 35)`);
    expect(err.details[20]).toBe("... and 5 more");
    expect(err.details[21]).toBe(`custom_id "stranger" (${b} line 1) is not in ${input}`);
  });

  it("accounts for input lines without a custom_id by the unkeyed error lines they produced", async () => {
    const input = writeJsonl(p("in.jsonl"), [chatRow(0), "{broken", chatRow(1)]);
    const unkeyed = {
      id: "batch_req_u",
      custom_id: null,
      response: null,
      error: { code: "invalid_request", message: "line 2: malformed JSON" },
    };
    const out = writeJsonl(p("o.jsonl"), [ok("row-1"), ok("row-0")]);
    const errs = writeJsonl(p("e.jsonl"), [unkeyed]);
    const output = p("m.jsonl");
    const r = await mergeOutputs({ outputs: [out, errs], output, input, order: "input" });
    expect(r).toMatchObject({ succeeded: 2, failed: 1, unkeyed: 1 });
    expect(ids(output)).toEqual(["row-0", "row-1"]);
    expect(readJsonl(r.errors)).toEqual([unkeyed]);
    await expect(mergeOutputs({ outputs: [out], output: p("m2.jsonl"), input })).rejects.toMatchObject({
      details: [
        `${input} has 1 line without a usable custom_id, but the outputs have 0 results without one`,
        "Nothing was written.",
      ],
    });
  });

  it("refuses lines that are not output lines, and bad flag combinations", async () => {
    const input = writeJsonl(p("in.jsonl"), [chatRow(0)]);
    await expect(mergeOutputs({ outputs: [input], output: p("x.jsonl") })).rejects.toMatchObject({
      details: [
        `${input} line 1: not a batch output line (no response, result, modelOutput or error; is it an input file?)`,
        "Nothing was written.",
      ],
    });
    const a = writeJsonl(p("a.jsonl"), [ok("row-0")]);
    await expect(mergeOutputs({ outputs: [a], output: p("x.jsonl"), order: "input" })).rejects.toThrow(
      /--order input needs --input/,
    );
    await expect(mergeOutputs({ outputs: [a], output: a })).rejects.toThrow(/would overwrite/);
    await expect(mergeOutputs({ outputs: [p("absent.jsonl")], output: p("x.jsonl") })).rejects.toThrow(
      /does not exist/,
    );
  });
});

describe("vbatch merge (CLI)", () => {
  it("merges in input order; exit 2 with the duplicate ids", async () => {
    const { input, outs } = shards(30);
    const output = p("cli.jsonl");
    const r = await runCli(["merge", ...outs, "-o", output, "--input", input, "--order", "input", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/all 30 input rows accounted for/);
    expect(JSON.parse(r.stdout)).toMatchObject({ inputRows: 30, order: "input" });
    expect(ids(output)).toEqual(inputOrder(30, (i) => i % 7 !== 3));
    const dup = await runCli([
      "merge",
      outs[0] as string,
      outs[0] as string,
      outs[1] as string,
      outs[1] as string,
      "-o",
      p("d.jsonl"),
    ]);
    expect(dup.code).toBe(0); // the same file named twice is read once
    const extra = writeJsonl(p("extra.jsonl"), [ok("row-1")]);
    const bad = await runCli(["merge", ...outs, extra, "-o", p("d2.jsonl")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/merge refused: 1 duplicate custom_id\n/);
    expect(bad.stderr).toMatch(/duplicate custom_id "row-1"/);
  });
});
