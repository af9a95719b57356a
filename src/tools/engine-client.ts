// The few engine calls the tools make (model list, /tokenize) over plain fetch: this is not batch
// traffic, so it skips the runner's transport and scheduling, keeping a small retry of its own.
import { normalizeEndpoint } from "../client/endpoint.js";
import {
  describeProblem,
  EngineAnswered,
  engineProblem,
  unresolvableHost,
} from "../client/engine-problem.js";
import { VbatchError } from "../errors.js";
import { isPlainObject } from "../input/row.js";

export interface ServedModel {
  id: string;
  /** Context length in tokens, when the engine reports it (vLLM does). */
  maxModelLen: number | null;
}

export type TokenizeResult = { ok: true; count: number } | { ok: false; status: number; message: string };

const ATTEMPTS = 3;

function errorMessage(json: unknown, status: number): string {
  if (isPlainObject(json)) {
    const e = isPlainObject(json.error) ? json.error : json;
    if (typeof e.message === "string") return e.message;
  }
  return `HTTP ${status}`;
}

export class EngineClient {
  readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    endpoint: string,
    private readonly options: { apiKey?: string | undefined; timeoutMs?: number } = {},
  ) {
    this.base = normalizeEndpoint(endpoint);
    const key = options.apiKey ?? process.env.VBATCH_ENGINE_API_KEY;
    this.headers = { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) };
  }

  private async call(path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const res = await fetch(`${this.base}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: this.headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
        });
        const text = await res.text();
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = { message: text.slice(0, 200) };
        }
        // Overload and restarts are worth a short wait; anything else is the answer.
        if ((res.status === 429 || res.status >= 500) && attempt < ATTEMPTS) {
          await new Promise((r) => setTimeout(r, 200 * attempt));
          continue;
        }
        return { status: res.status, json };
      } catch (err) {
        lastError = err;
        // An address that can never work is said at once, as a run says it.
        const problem = engineProblem(this.base, err);
        if (problem.kind === "wrong") {
          throw new VbatchError("usage", describeProblem(this.base, problem), { cause: err });
        }
        if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    const problem = engineProblem(this.base, lastError);
    throw new VbatchError("engine_unavailable", `cannot reach ${this.base}${path}: ${problem.reason}`, {
      cause: lastError,
    });
  }

  /** GET /v1/models. */
  async models(): Promise<ServedModel[]> {
    const unresolvable = unresolvableHost(this.base);
    if (unresolvable) throw new VbatchError("usage", describeProblem(this.base, unresolvable));
    const { status, json } = await this.call("/v1/models");
    const problem =
      status === 200 ? null : engineProblem(this.base, new EngineAnswered(status, "/v1/models"));
    if (problem?.kind === "wrong") throw new VbatchError("usage", describeProblem(this.base, problem));
    if (status !== 200 || !isPlainObject(json) || !Array.isArray(json.data)) {
      throw new VbatchError(
        "engine_unavailable",
        `GET ${this.base}/v1/models answered ${status}: ${errorMessage(json, status)}`,
      );
    }
    return json.data
      .filter(isPlainObject)
      .flatMap((m) =>
        typeof m.id === "string"
          ? [{ id: m.id, maxModelLen: typeof m.max_model_len === "number" ? m.max_model_len : null }]
          : [],
      );
  }

  /** POST /tokenize with `{model, prompt}` or `{model, messages}` (the chat template applies). */
  async tokenize(body: Record<string, unknown>): Promise<TokenizeResult> {
    const { status, json } = await this.call("/tokenize", body);
    if (status === 200 && isPlainObject(json) && typeof json.count === "number") {
      return { ok: true, count: json.count };
    }
    if (status === 404 && !(isPlainObject(json) && (json.error || json.object === "error"))) {
      throw new VbatchError("engine_unavailable", `${this.base} has no /tokenize endpoint (is it vLLM?)`);
    }
    return { ok: false, status, message: errorMessage(json, status) };
  }
}
