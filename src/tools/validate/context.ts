// The context-length check: a row whose prompt plus max_tokens cannot fit the model's
// max_model_len would be refused by vLLM with a 400 after the job started; here it is a problem
// with its line number before anything is sent.
import type { BatchRow } from "../../input/row.js";
import { EngineClient } from "../engine-client.js";
import { mapLimit } from "../map-limit.js";
import { ModelTargets } from "../model-target.js";
import { COMPLETION_DEFAULT_MAX_TOKENS, type Prompt, requestedMaxTokens } from "../prompt.js";
import { type CountMethod, charsCounter, type TokenCounter } from "../tokens/counter.js";
import { endpointCounter } from "../tokens/endpoint.js";

export interface ContextReport {
  method: CountMethod;
  description: string;
  endpoint: string | null;
  /** Rows whose length was checked. */
  checked: number;
  tooLong: number;
  /** Rows not checked: no max_model_len known for their model. */
  unknownLength: number;
  longestPromptTokens: { tokens: number; customId: string; line: number } | null;
}

export interface CheckedRow {
  row: BatchRow;
  line: number;
  prompt: Prompt;
}

const int = (n: number) => n.toLocaleString("en-US");

export class ContextChecker {
  readonly report: ContextReport;

  constructor(
    private readonly counter: TokenCounter,
    private readonly targets: ModelTargets,
    private readonly concurrency: number,
    endpoint: string | null,
  ) {
    this.report = {
      method: counter.method,
      description: counter.description,
      endpoint,
      checked: 0,
      tooLong: 0,
      unknownLength: 0,
      longestPromptTokens: null,
    };
  }

  /** Checks a batch of rows, appending "line N: ..." problems to `problems`. */
  async check(rows: CheckedRow[], problems: { line: number; message: string }[]): Promise<void> {
    const exact = this.counter.method === "tokenize";
    await mapLimit(rows, this.concurrency, async ({ row, line, prompt }) => {
      const note = (message: string) => problems.push({ line, message: `line ${line}: ${message}` });
      const target = this.targets.resolve(row.body);
      if (!target.ok) return note(target.message);
      if (target.maxModelLen === null) {
        this.report.unknownLength++;
        return;
      }
      const counted = await this.counter.count(row, prompt, target.model);
      if (!counted.ok) return note(counted.message);
      const tokens = counted.tokens;
      this.report.checked++;
      const longest = this.report.longestPromptTokens;
      if (longest === null || tokens > longest.tokens) {
        this.report.longestPromptTokens = { tokens, customId: row.customId, line };
      }
      const limit = target.maxModelLen;
      const of = `max_model_len ${int(limit)}${target.model ? ` of ${target.model}` : ""}`;
      const size = exact ? `${int(tokens)} tokens` : `about ${int(tokens)} tokens, estimated`;
      let problem: string | null = null;
      if (prompt.kind === "embedding") {
        if (tokens > limit) problem = `input (${size}) exceeds ${of}`;
      } else if (tokens >= limit) {
        problem = `prompt (${size}) leaves no room to generate within ${of}`;
      } else {
        const asked = requestedMaxTokens(row);
        const max = asked ?? (prompt.kind === "completion" ? COMPLETION_DEFAULT_MAX_TOKENS : null);
        const field = row.body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens";
        if (max !== null && tokens + max > limit) {
          problem = `prompt (${size}) + ${asked === null ? "default max_tokens" : field} ${int(max)} = ${int(tokens + max)} exceeds ${of}`;
        }
      }
      if (problem) {
        this.report.tooLong++;
        note(problem);
      }
    });
  }
}

export interface ContextOptions {
  endpoint?: string | undefined;
  maxModelLen?: number | undefined;
  model?: string | undefined;
  apiKey?: string | undefined;
  concurrency?: number | undefined;
}

/** The checker the options ask for, or null when neither --endpoint nor --max-model-len is given. */
export async function contextChecker(o: ContextOptions): Promise<ContextChecker | null> {
  const concurrency = o.concurrency ?? 16;
  if (o.endpoint !== undefined) {
    const client = new EngineClient(o.endpoint, { apiKey: o.apiKey });
    const served = await client.models();
    const targets = new ModelTargets(served, o.model, o.maxModelLen, client.base);
    return new ContextChecker(endpointCounter(client), targets, concurrency, client.base);
  }
  if (o.maxModelLen !== undefined) {
    return new ContextChecker(
      charsCounter(),
      new ModelTargets(null, o.model, o.maxModelLen, undefined),
      1,
      null,
    );
  }
  return null;
}
