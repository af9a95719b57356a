// Reads the three vLLM gauges the scheduler steers by, and the prefix cache's counters, out of
// Prometheus text. Samples of one name are summed across label sets (data-parallel engines report
// one series per engine).

export interface VllmLoad {
  running: number;
  waiting: number;
  /** 0..1, or null when the engine does not report it. */
  kvCacheUsage: number | null;
  /**
   * The prefix cache's counters, in prompt tokens looked up and found since the engine started
   * (vllm/v1/metrics/loggers.py: vllm:prefix_cache_queries / vllm:prefix_cache_hits, written with
   * prometheus_client's _total suffix); absent when the engine does not report them.
   */
  prefixQueries?: number;
  prefixHits?: number;
}

const NAMES = {
  "vllm:num_requests_running": "running",
  "vllm:num_requests_waiting": "waiting",
  "vllm:kv_cache_usage_perc": "kv",
  // vLLM V0 and early V1 used this name for the same gauge.
  "vllm:gpu_cache_usage_perc": "kv",
  "vllm:prefix_cache_queries_total": "queries",
  "vllm:prefix_cache_hits_total": "hits",
  // The names before vLLM 0.9 renamed them (kept hidden since).
  "vllm:gpu_prefix_cache_queries_total": "queries",
  "vllm:gpu_prefix_cache_hits_total": "hits",
} as const;

/** Parses /metrics text; null when it has no vLLM request gauges (not a vLLM engine). */
export function parseVllmLoad(text: string): VllmLoad | null {
  let running: number | null = null;
  let waiting: number | null = null;
  let kv: number | null = null;
  let kvSeries = 0;
  let queries: number | null = null;
  let hits: number | null = null;
  for (const raw of text.split("\n")) {
    if (raw.length === 0 || raw.charCodeAt(0) === 35 /* # */ || !raw.startsWith("vllm:")) continue;
    const brace = raw.indexOf("{");
    const space = raw.lastIndexOf(" ");
    if (space === -1) continue;
    const name = raw.slice(0, brace !== -1 && brace < space ? brace : raw.indexOf(" "));
    const kind = NAMES[name as keyof typeof NAMES];
    if (!kind) continue;
    // A sample line may end with a timestamp: "name{labels} value [ts]".
    const parts = raw
      .slice(brace !== -1 ? raw.lastIndexOf("}") + 1 : name.length)
      .trim()
      .split(/\s+/);
    const value = Number(parts[0]);
    if (!Number.isFinite(value)) continue;
    if (kind === "running") running = (running ?? 0) + value;
    else if (kind === "waiting") waiting = (waiting ?? 0) + value;
    else if (kind === "queries") queries = (queries ?? 0) + value;
    else if (kind === "hits") hits = (hits ?? 0) + value;
    else {
      kv = (kv ?? 0) + value;
      kvSeries++;
    }
  }
  if (running === null || waiting === null) return null;
  const load: VllmLoad = { running, waiting, kvCacheUsage: kv === null ? null : kv / Math.max(1, kvSeries) };
  if (queries !== null && hits !== null) {
    load.prefixQueries = queries;
    load.prefixHits = hits;
  }
  return load;
}
