// vbatch retry on every batch format: the errors file holds each format's own failure lines
// (Anthropic results, Gemini {key, error}, Bedrock {recordId, error}), and retry reads their ids
// and codes, sends the rows again, and leaves every row in exactly one of the two files.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { retryFailed, runBatch } from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, readJsonl, tempDir, writeJsonl } from "./helpers/files.js";
import { useSims } from "./helpers/sims.js";

const dir = tempDir();
let n = 0;
const job = (name: string) => {
  n++;
  return { input: join(dir, `${name}-${n}.jsonl`), output: join(dir, `${name}-${n}.out.jsonl`) };
};
const sim = useSims({ prefillMs: 0, stepMs: 0 });
const fast = { retryBaseMs: 1, retryMaxMs: 2, fsync: false, maxAttempts: 1, model: "sim-model" };

const FORMATS = {
  openai: { id: "custom_id", row: (i: number, model = "sim-model") => chatRow(i, { model }) },
  anthropic: {
    id: "custom_id",
    row: (i: number, model = "sim-model") => ({
      custom_id: `row-${i}`,
      params: { model, max_tokens: 8, messages: [{ role: "user", content: `question ${i}` }] },
    }),
  },
  gemini: {
    id: "key",
    row: (i: number, model = "sim-model") => ({
      key: `row-${i}`,
      request: { model: `models/${model}`, contents: [{ role: "user", parts: [{ text: `question ${i}` }] }] },
    }),
  },
  bedrock: {
    id: "recordId",
    // Bedrock records name no model: the job's --model serves them all.
    row: (i: number) => ({ recordId: `row-${i}`, modelInput: { prompt: `question ${i}`, max_gen_len: 8 } }),
  },
} as const;
type Format = keyof typeof FORMATS;

/** Every id appears once across the files, and all `total` ids are there. */
function exactlyOnce(format: Format, total: number, ...files: string[]) {
  const ids = files.flatMap((f) => readJsonl(f).map((l) => l[FORMATS[format].id]));
  expect(ids.length).toBe(total);
  expect(new Set(ids).size).toBe(total);
}

describe("retry reads every format's failure lines", () => {
  it.each(Object.keys(FORMATS) as Format[])(
    "%s: the failed rows are sent again and every row ends in one file once",
    async (format) => {
      const s = await sim({ faults: { errorRate: 1 } });
      const j = job(format);
      writeJsonl(
        j.input,
        Array.from({ length: 7 }, (_, i) => FORMATS[format].row(i)),
      );
      const first = await runBatch({ ...j, endpoints: [s.url], ...fast });
      expect(first).toMatchObject({ succeeded: 0, failed: 7 });
      s.setFaults({});
      const again = await retryFailed({ ...j, endpoints: [s.url], ...fast });
      expect(again).toMatchObject({ reopened: 7, succeeded: 7, failed: 0, requests: 7 });
      expect(readJsonl(again.errors)).toEqual([]);
      exactlyOnce(format, 7, j.output, again.errors);
    },
  );

  it("gemini: --codes 404 takes the row whose line says code 5 (NOT_FOUND)", async () => {
    const s = await sim();
    const j = job("gemini-cli");
    const rows = [1, 2, 3].map((i) => FORMATS.gemini.row(i));
    writeJsonl(j.input, [...rows, FORMATS.gemini.row(4, "not-served")]);
    const r1 = await runCli(["run", j.input, "-o", j.output, "-e", s.url, "--max-attempts", "1"]);
    expect(r1.code, r1.stderr).toBe(0);
    const errors = j.output.replace(/\.jsonl$/, ".errors.jsonl");
    expect(readJsonl(errors)).toMatchObject([{ key: "row-4", error: { code: 5 } }]);
    const none = await runCli(["retry", j.output, "-e", s.url, "--codes", "429"]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain(
      "--codes 429 matched no line of the errors file; it holds 5 (1), 404 (1), NOT_FOUND (1)",
    );
    expect(none.stderr).toContain("vbatch: 0 rows taken from the errors file and sent again");
    const r2 = await runCli([
      "retry",
      j.output,
      "-e",
      s.url,
      "--codes",
      "404",
      "--model-map",
      "not-served=sim-model",
    ]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain("vbatch: 1 row taken from the errors file and sent again");
    expect(readJsonl(j.output).map((l) => l.key)).toContain("row-4");
    expect(readJsonl(errors)).toEqual([]);
    exactlyOnce("gemini", 4, j.output, errors);
  });

  it.each([
    ["gemini", "5"],
    ["gemini", "NOT_FOUND"],
    ["anthropic", "404"],
    ["anthropic", "not_found_error"],
    ["openai", "404"],
  ] as const)("%s: --codes %s picks the not-found row and leaves the too-long one", async (format, code) => {
    const s = await sim({ maxModelLen: 64 });
    const j = job(`${format}-codes`);
    const tooLong =
      format === "openai"
        ? chatRow(2, { model: "sim-model", maxTokens: 5000 })
        : format === "gemini"
          ? {
              key: "row-2",
              request: { ...FORMATS.gemini.row(2).request, generationConfig: { maxOutputTokens: 5000 } },
            }
          : { custom_id: "row-2", params: { ...FORMATS.anthropic.row(2).params, max_tokens: 5000 } };
    writeJsonl(j.input, [FORMATS[format].row(1), tooLong, FORMATS[format].row(3, "not-served")]);
    const first = await runBatch({ ...j, endpoints: [s.url], ...fast });
    expect(first).toMatchObject({ succeeded: 1, failed: 2 });
    const again = await retryFailed({
      ...j,
      endpoints: [s.url],
      ...fast,
      codes: [code],
      modelMap: { "not-served": "sim-model" },
    });
    expect(again).toMatchObject({ reopened: 1, requests: 1, succeeded: 2, failed: 1 });
    expect(readJsonl(again.errors).map((l) => l[FORMATS[format].id])).toEqual(["row-2"]);
    exactlyOnce(format, 3, j.output, again.errors);
  });

  it("refuses a vbatch code that the format's lines do not keep, naming the one they show", async () => {
    const s = await sim({ faults: { errorRate: 1 } });
    const j = job("bedrock-codes");
    writeJsonl(j.input, [FORMATS.bedrock.row(1)]);
    await runBatch({ ...j, endpoints: [s.url], ...fast });
    const r = await runCli([
      "retry",
      j.output,
      "-e",
      s.url,
      "-m",
      "sim-model",
      "--codes",
      "connection_error",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^vbatch: error: --codes connection_error: Bedrock result lines show it as 503; pass --codes 503/m,
    );
    expect(readJsonl(j.output.replace(/\.jsonl$/, ".errors.jsonl"))).toHaveLength(1);
  });
});
