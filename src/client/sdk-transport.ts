// The same wire contract through the official openai SDK (maxRetries 0: the runner owns
// retries). Kept as `--transport sdk` for servers that need the SDK's exact behaviour, and as the
// baseline the benchmark compares the lean transport against.
import type OpenAI from "openai";
import { Agent, fetch as undiciFetch } from "undici";
import {
  parseRetryAfter,
  type Transport,
  TransportFailure,
  type TransportOptions,
  type WireRequest,
  type WireResponse,
} from "./wire.js";

// Loaded when first used: the SDK is about 150 modules, which every run would otherwise load
// at start for a transport it seldom uses.
let sdk: Promise<typeof import("openai")> | undefined;
const loadSdk = () => {
  sdk ??= import("openai");
  return sdk;
};

export class SdkTransport implements Transport {
  private readonly client: Promise<OpenAI>;
  private readonly agent: Agent;
  private readonly base: string;
  private readonly apiKey: string | undefined;
  /** Raw error bodies by the Headers object the SDK hands to its APIError. */
  private readonly rawErrors = new WeakMap<object, string>();

  constructor(options: TransportOptions) {
    this.base = options.base;
    this.apiKey = options.apiKey;
    this.agent = new Agent({
      connections: options.connections,
      keepAliveTimeout: 60_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    const agent = this.agent;
    const rawErrors = this.rawErrors;
    // The SDK keeps only `body.error` of a failed answer; vLLM before 0.10.1 sends its error
    // flat, so the raw text is kept here to write whichever shape came.
    const fetchWithRawErrors = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      // undici's fetch types differ nominally from the DOM's; the objects are the same at runtime.
      const res = (await undiciFetch(
        url as never,
        { ...(init as object), dispatcher: agent } as never,
      )) as unknown as Response;
      if (res.ok) return res;
      const text = await res.text();
      const copy = new Response(text, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
      rawErrors.set(copy.headers, text);
      return copy;
    };
    this.client = loadSdk().then(
      ({ default: OpenAI }) =>
        new OpenAI({
          baseURL: `${options.base}/v1`,
          apiKey: options.apiKey ?? "EMPTY",
          maxRetries: 0,
          timeout: options.timeoutMs,
          fetch: fetchWithRawErrors,
        }),
    );
    // A failed load is reported by the first send; it must not also be an unhandled rejection.
    this.client.catch(() => {});
  }

  async send(req: WireRequest): Promise<WireResponse> {
    const { default: OpenAI } = await loadSdk();
    const client = await this.client;
    try {
      const res = (await client.post(req.path.replace(/^\/v1/, ""), {
        body: req.body,
        headers: { "content-type": "application/json", "x-request-id": req.requestId },
        signal: req.signal,
        __binaryResponse: true,
      })) as unknown as Response;
      return {
        status: res.status,
        body: await res.text(),
        requestId: res.headers.get("x-request-id") ?? req.requestId,
        retryAfterMs: null,
      };
    } catch (err) {
      if (err instanceof OpenAI.APIUserAbortError)
        throw new TransportFailure("aborted", "request aborted", err);
      if (err instanceof OpenAI.APIConnectionTimeoutError)
        throw new TransportFailure("timeout", err.message, err);
      if (err instanceof OpenAI.APIConnectionError)
        throw new TransportFailure("connection", err.message, err);
      if (err instanceof OpenAI.APIError && err.status !== undefined && err.headers) {
        const raw = this.rawErrors.get(err.headers) ?? JSON.stringify(err.error ?? { message: err.message });
        return {
          status: err.status,
          body: raw,
          requestId: err.headers.get("x-request-id") ?? req.requestId,
          retryAfterMs: parseRetryAfter(
            err.headers.get("retry-after-ms") ?? undefined,
            err.headers.get("retry-after") ?? undefined,
          ),
        };
      }
      throw new TransportFailure("connection", (err as Error).message, err);
    }
  }

  async getText(path: string, timeoutMs = 10_000): Promise<{ status: number; text: string }> {
    try {
      const headers: Record<string, string> = {};
      if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
      const res = await undiciFetch(this.base + path, {
        headers,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      const e = err as Error;
      throw new TransportFailure(e.name === "TimeoutError" ? "timeout" : "connection", e.message, err);
    }
  }

  async getJson(path: string, timeoutMs?: number): Promise<{ status: number; json: unknown }> {
    const { status, text } = await this.getText(path, timeoutMs);
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status, json };
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}
