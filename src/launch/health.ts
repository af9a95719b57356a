// Waits until a starting vLLM answers: GET /health, then GET /v1/models, both 200. Before the
// model loads the port refuses connections, and a cold Modal app answers 503: both mean "not yet".
import { setTimeout as sleep } from "node:timers/promises";
import { VbatchError } from "../errors.js";

export interface WaitReadyOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
  /** Told each time what the engine answers changes ("connection refused", "503"...). */
  onLog?: ((message: string) => void) | undefined;
  /** First pause between polls; doubles up to maxIntervalMs. @default 250 */
  intervalMs?: number;
  /** @default 1000 */
  maxIntervalMs?: number;
  /** One poll's own limit; a Modal cold start can hold a request for minutes. @default 30000 */
  attemptTimeoutMs?: number;
}

export interface ReadyInfo {
  /** Model ids from /v1/models (empty when it answered 401/403: the engine wants an API key). */
  models: string[];
}

type Probe = { ok: true; json: unknown } | { ok: false; problem: string };

async function probe(url: string, signal: AbortSignal): Promise<Probe> {
  try {
    const res = await fetch(url, { signal, redirect: "follow" });
    const text = await res.text();
    if (res.status === 200) {
      try {
        return { ok: true, json: text.length > 0 ? JSON.parse(text) : null };
      } catch {
        return { ok: true, json: null };
      }
    }
    // The server is up and only wants the key the runner will send.
    if (res.status === 401 || res.status === 403) return { ok: true, json: null };
    return { ok: false, problem: `HTTP ${res.status}` };
  } catch (err) {
    if (signal.aborted) return { ok: false, problem: "no answer in time" };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === "ECONNREFUSED") return { ok: false, problem: "connection refused" };
    return { ok: false, problem: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}

function modelIds(json: unknown): string[] {
  if (typeof json !== "object" || json === null) return [];
  const data = (json as { data?: unknown }).data;
  if (!Array.isArray(data)) return [];
  return data
    .map((m) => (typeof m === "object" && m !== null ? (m as { id?: unknown }).id : undefined))
    .filter((id): id is string => typeof id === "string");
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Polls until the engine at `base` (no /v1) is ready; throws VbatchError("engine_unavailable") on timeout. */
export async function waitReady(base: string, options: WaitReadyOptions): Promise<ReadyInfo> {
  const root = base.replace(/\/+$/, "").replace(/\/v1$/, "");
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 250;
  const maxInterval = options.maxIntervalMs ?? 1000;
  let last = "";
  const note = (problem: string) => {
    if (problem !== last) options.onLog?.(`waiting for ${root}: ${problem}`);
    last = problem;
  };
  for (;;) {
    options.signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new VbatchError(
        "engine_unavailable",
        `engine at ${root} not ready after ${seconds(options.timeoutMs)} (--startup-timeout); last answer: ${last || "none"}`,
      );
    }
    const attempt = AbortSignal.timeout(Math.min(left, options.attemptTimeoutMs ?? 30_000));
    const signal = options.signal ? AbortSignal.any([options.signal, attempt]) : attempt;
    const health = await probe(`${root}/health`, signal);
    if (health.ok) {
      const models = await probe(`${root}/v1/models`, signal);
      if (models.ok) return { models: modelIds(models.json) };
      note(`/v1/models: ${models.problem}`);
    } else {
      note(`/health: ${health.problem}`);
    }
    options.signal?.throwIfAborted();
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), undefined, {
      signal: options.signal,
    }).catch(() => undefined);
    interval = Math.min(interval * 2, maxInterval);
  }
}
