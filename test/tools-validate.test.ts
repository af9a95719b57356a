// vbatch validate: the run's checks on their own, a summary, and context-length checks that use a
// live engine's /v1/models and /tokenize (the simulator here).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type SimServer, startSim } from "../src/sim/index.js";
import { chatTokenCount } from "../src/sim/tokens.js";
import { validateInput } from "../src/tools/validate/index.js";
import { runCli } from "./helpers/cli.js";
import { chatRow, tempDir, writeJsonl } from "./helpers/files.js";

const dir = tempDir();
let n = 0;
const path = () => join(dir, `v-${++n}.jsonl`);
const sims: SimServer[] = [];
async function sim(opts: Parameters<typeof startSim>[0] = {}): Promise<SimServer> {
  const s = await startSim({ prefillMs: 0, stepMs: 0, ...opts });
  sims.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const chat = (id: string, content: string, extra: Record<string, unknown> = {}) => ({
  custom_id: id,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model: "sim-model", messages: [{ role: "user", content }], ...extra },
});

describe("validateInput", () => {
  it("summarises a good file: urls, models, duplicate prompts, longest prompt", async () => {
    const input = writeJsonl(path(), [
      chatRow(0, { model: "a" }),
      chatRow(1, { model: "b" }),
      { ...chatRow(0, { model: "a" }), custom_id: "again" },
      { custom_id: "e1", method: "POST", url: "/v1/embeddings", body: { input: "x".repeat(50) } },
      { custom_id: "c1", method: "POST", url: "/v1/completions", body: { model: "a", prompt: ["ab", "cd"] } },
    ]);
    const r = await validateInput({ input });
    expect(r).toMatchObject({
      ok: true,
      lines: 5,
      rows: 5,
      problemCount: 0,
      byUrl: { "/v1/chat/completions": 3, "/v1/embeddings": 1, "/v1/completions": 1 },
      models: { a: 3, b: 1, "(none)": 1 },
      rowsWithoutModel: 1,
      duplicatePrompts: 1,
      longestPrompt: { chars: 50, customId: "e1", line: 4 },
      context: null,
    });
  });

  it("lists every problem with its line: bad JSON, bad fields, duplicate custom_ids", async () => {
    const rows: unknown[] = [chatRow(0), "{not json", { ...chatRow(1), method: "GET" }, chatRow(0)];
    for (let i = 0; i < 30; i++) rows.push({ custom_id: `x${i}`, method: "POST", url: "/v1/nope", body: {} });
    const input = writeJsonl(path(), rows);
    const r = await validateInput({ input });
    expect(r.ok).toBe(false);
    expect(r.problemCount).toBe(33);
    expect(r.problems).toHaveLength(20);
    expect(r.problems[0]).toMatch(/^line 2: malformed JSON/);
    expect(r.problems[1]).toBe('line 3: unsupported method "GET" (only "POST")');
    expect(r.problems[2]).toBe('line 4: duplicate custom_id "row-0" (first on line 1)');
    expect(r.problems[3]).toMatch(/^line 5: unsupported url "\/v1\/nope"/);
    expect(r.rows).toBe(1);
  });

  it("with --endpoint: exact /tokenize counts and the engine's max_model_len flag rows that cannot fit", async () => {
    const s = await sim({ maxModelLen: 64 });
    const fits = chat("fits", "q".repeat(100), { max_tokens: 8 }); // 3 + 4 + 25 = 32 tokens
    const over = chat("over", "q".repeat(200), { max_tokens: 8 }); // 57 + 8 > 64
    const full = chat("full", "q".repeat(240)); // 67 >= 64, no max_tokens
    const cap = chat("cap", "q".repeat(100), { max_completion_tokens: 40 });
    const other = { ...chat("other", "hi"), body: { model: "not-served", messages: [] } };
    const emb = { custom_id: "emb", method: "POST", url: "/v1/embeddings", body: { input: "e".repeat(260) } };
    const input = writeJsonl(path(), [fits, over, full, cap, other, emb]);
    const r = await validateInput({ input, endpoint: s.url });
    expect(r.context).toMatchObject({
      method: "tokenize",
      endpoint: s.url,
      checked: 5,
      tooLong: 4,
      longestPromptTokens: { tokens: chatTokenCount(full.body.messages), customId: "full", line: 3 },
    });
    expect(r.problems).toEqual([
      "line 2: prompt (57 tokens) + max_tokens 8 = 65 exceeds max_model_len 64 of sim-model",
      "line 3: prompt (67 tokens) leaves no room to generate within max_model_len 64 of sim-model",
      "line 4: prompt (32 tokens) + max_completion_tokens 40 = 72 exceeds max_model_len 64 of sim-model",
      `line 5: model "not-served" is not served by ${s.url} (it serves sim-model)`,
      "line 6: input (65 tokens) exceeds max_model_len 64 of sim-model",
    ]);
    expect(chatTokenCount(over.body.messages)).toBe(57);
  });

  it("with --max-model-len alone: estimated counts, labelled as such", async () => {
    const input = writeJsonl(path(), [chat("a", "q".repeat(400), { max_tokens: 10 }), chat("b", "short")]);
    const r = await validateInput({ input, maxModelLen: 100 });
    expect(r.context?.method).toBe("chars");
    expect(r.problems).toEqual([
      "line 1: prompt (about 107 tokens, estimated) leaves no room to generate within max_model_len 100 of sim-model",
    ]);
  });

  it("CLI: exit 0 with a summary, exit 2 listing problems, --json on stdout", async () => {
    const s = await sim({ maxModelLen: 64 });
    const good = writeJsonl(path(), [chatRow(1), chatRow(2)]);
    const ok = await runCli(["validate", good, "--endpoint", s.url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/2 valid of 2 lines/);
    expect(ok.stdout).toMatch(/2 rows checked, 0 too long/);
    const bad = writeJsonl(path(), [chatRow(1), chat("big", "q".repeat(300), { max_tokens: 8 }), chatRow(1)]);
    const r = await runCli(["validate", bad, "--endpoint", s.url, "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, problemCount: 2, rows: 2 });
    expect(r.stderr).toContain(`${bad}: 2 problems`);
    expect(r.stderr).toContain("line 2: prompt (82 tokens) leaves no room");
    expect(r.stderr).toContain('line 3: duplicate custom_id "row-1" (first on line 1)');
    const down = await runCli(["validate", good, "--endpoint", "http://127.0.0.1:1"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1\/v1\/models/);
  });
});
