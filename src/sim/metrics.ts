// /metrics in Prometheus text exposition with vLLM's metric names and labels, so the scheduler's
// saturation logic reads the sim exactly as it reads a real engine.

export interface MetricsSnapshot {
  model: string;
  running: number;
  waiting: number;
  /** 0..1 */
  kvCacheUsage: number;
  promptTokens: number;
  generationTokens: number;
  prefixCacheQueries: number;
  prefixCacheHits: number;
  success: { stop: number; length: number; abort: number };
}

function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** prometheus_client writes floats the Python way: 3.0, 0.25. */
function num(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

function family(name: string, type: "gauge" | "counter", help: string, samples: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${samples}`;
}

export function renderMetrics(s: MetricsSnapshot): string {
  const labels = `model_name="${labelValue(s.model)}",engine="0"`;
  const one = (name: string, v: number, extra = "") => `${name}{${labels}${extra}} ${num(v)}\n`;
  const success =
    one("vllm:request_success_total", s.success.stop, ',finished_reason="stop"') +
    one("vllm:request_success_total", s.success.length, ',finished_reason="length"') +
    one("vllm:request_success_total", s.success.abort, ',finished_reason="abort"');
  return [
    family(
      "vllm:num_requests_running",
      "gauge",
      "Number of requests in model execution batches.",
      one("vllm:num_requests_running", s.running),
    ),
    family(
      "vllm:num_requests_waiting",
      "gauge",
      "Number of requests waiting to be processed.",
      one("vllm:num_requests_waiting", s.waiting),
    ),
    family(
      "vllm:kv_cache_usage_perc",
      "gauge",
      "KV-cache usage. 1 means 100 percent usage.",
      one("vllm:kv_cache_usage_perc", s.kvCacheUsage),
    ),
    family(
      "vllm:prompt_tokens_total",
      "counter",
      "Number of prefill tokens processed.",
      one("vllm:prompt_tokens_total", s.promptTokens),
    ),
    family(
      "vllm:generation_tokens_total",
      "counter",
      "Number of generation tokens processed.",
      one("vllm:generation_tokens_total", s.generationTokens),
    ),
    // vllm/v1/metrics/loggers.py (PrometheusStatLogger): counters in tokens, per engine
    family(
      "vllm:prefix_cache_queries_total",
      "counter",
      "Prefix cache queries, in terms of number of queried tokens.",
      one("vllm:prefix_cache_queries_total", s.prefixCacheQueries),
    ),
    family(
      "vllm:prefix_cache_hits_total",
      "counter",
      "Prefix cache hits, in terms of number of cached tokens.",
      one("vllm:prefix_cache_hits_total", s.prefixCacheHits),
    ),
    family("vllm:request_success_total", "counter", "Count of successfully processed requests.", success),
  ].join("");
}
