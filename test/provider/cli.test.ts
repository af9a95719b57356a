// `vbatch run --provider` from the command line: what it refuses in one line (exit 2, the
// directory left as it was), and a whole job against the stand-in with --json's summary.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseDeadline } from "../../src/cli/job/overflow-flags.js";
import { runCli } from "../helpers/cli.js";
import { tempDir, writeChatInput, writeJsonl } from "../helpers/files.js";
import { type StandIn, startStandIn } from "../helpers/provider-stand-in.js";

const dir = tempDir("vbatch-provider-cli-");
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);
const stands: StandIn[] = [];
afterEach(async () => {
  await Promise.all(stands.splice(0).map((s) => s.close()));
});

const NO_KEYS = { OPENAI_API_KEY: "", ANTHROPIC_API_KEY: "" };

describe("vbatch run --provider: refusals", () => {
  it("refuses gemini and bedrock with the reason, and provider flags without --provider", async () => {
    const input = writeChatInput(`${fresh("in")}.jsonl`, 2);
    for (const name of ["gemini", "bedrock"]) {
      const r = await runCli(["run", input, "-o", `${fresh("out")}.jsonl`, "--provider", name]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(name === "gemini" ? /Google Cloud Storage.*IAM/ : /S3.*IAM/);
    }
    const r = await runCli([
      "run",
      input,
      "-o",
      `${fresh("out")}.jsonl`,
      "--chunk-rows",
      "5",
      "--launch",
      "sim",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--chunk-rows goes with --provider/);
  });

  it("refuses a job without a key for the provider's own URL, naming where the key goes", async () => {
    const input = writeChatInput(`${fresh("in")}.jsonl`, 2);
    const r = await runCli(["run", input, "-o", `${fresh("out")}.jsonl`, "--provider", "openai"], {
      env: NO_KEYS,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/set OPENAI_API_KEY or pass --provider-key-file/);
  });

  it("refuses Anthropic lines for --provider openai and rows with no model, leaving the directory as it was", async () => {
    const stand = await startStandIn();
    stands.push(stand);
    const sub = fresh("dir");
    mkdirSync(sub);
    const anth = writeJsonl(join(sub, "a.jsonl"), [
      {
        custom_id: "a",
        params: { model: "claude", max_tokens: 5, messages: [{ role: "user", content: "hi" }] },
      },
    ]);
    const nomodel = writeChatInput(join(sub, "b.jsonl"), 2, {});
    const key = join(dir, `key-${n}`);
    writeFileSync(key, "k\n");
    const before = readdirSync(sub).sort();
    for (const [input, why] of [
      [anth, /takes OpenAI batch lines.*anthropic lines \(use --provider anthropic\)/],
      [nomodel, /2 row\(s\) name no model.*--model/],
    ] as const) {
      const r = await runCli([
        "run",
        input,
        "-o",
        join(sub, "out.jsonl"),
        "--provider",
        "openai",
        "--provider-url",
        stand.url,
        "--provider-key-file",
        key,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(readdirSync(sub).sort()).toEqual(before);
    }
    expect(stand.uploads).toBe(0);
    expect(existsSync(join(sub, "out.jsonl"))).toBe(false);
  });
});

describe("vbatch estimate --provider", () => {
  it("prices the tokens at the provider's batch price, and asks for a price it does not know", async () => {
    const input = writeChatInput(`${fresh("in")}.jsonl`, 3, { model: "gpt-4o-mini" });
    const r = await runCli(["estimate", input, "--provider", "openai", "--price", "1/2", "--json"]);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.provider).toMatchObject({
      name: "openai",
      price: { inputPerMillion: 1, outputPerMillion: 2, source: "--price" },
    });
    expect(e.provider.cost).toBeCloseTo((e.promptTokens * 1 + e.outputTokens * 2) / 1e6, 12);
    const table = await runCli(["estimate", input, "--provider", "openai", "--model", "gpt-4o-mini"]);
    expect(table.stdout).toMatch(
      /--provider openai gpt-4o-mini: .* at \$0\.075 \/ \$0\.30 per 1M in\/out \(table of/,
    );
    const none = await runCli(["estimate", input, "--provider", "anthropic"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/pass --price <in\/out>.*claude-haiku-4-5/);
  });
});

describe("vbatch run --overflow: refusals", () => {
  it("needs --deadline, engines' flags only with it, and a price for a budget", async () => {
    const input = writeChatInput(`${fresh("in")}.jsonl`, 2, { model: "my-own-model" });
    const out = () => `${fresh("out")}.jsonl`;
    const env = { OPENAI_API_KEY: "k" };
    const cases: [string[], RegExp][] = [
      [["--overflow", "openai"], /--overflow needs --deadline/],
      [["--deadline", "07:00"], /--deadline goes with --overflow openai/],
      [["--overflow", "openai", "--provider", "openai", "--deadline", "07:00"], /pass one/],
      [["--deadline", "25:00", "--overflow", "openai"], /not a time of day/],
      [
        ["--overflow", "openai", "--deadline", "07:00", "--overflow-budget", "5"],
        /--overflow-budget needs the batch price/,
      ],
    ];
    for (const [flags, why] of cases) {
      const r = await runCli(["run", input, "-o", out(), "--launch", "sim", ...flags], { env });
      expect(r.code, flags.join(" ")).toBe(2);
      expect(r.stderr).toMatch(why);
    }
  });

  it("reads a deadline as the next time the clock shows it, or an ISO date-time", () => {
    const now = new Date(2026, 11, 6, 8, 30);
    expect(new Date(parseDeadline("07:00", now)).getDate()).toBe(7);
    expect(new Date(parseDeadline("09:15", now)).getHours()).toBe(9);
    expect(parseDeadline("2026-12-07T07:00:00Z", now)).toBe(Date.UTC(2026, 11, 7, 7));
  });
});
