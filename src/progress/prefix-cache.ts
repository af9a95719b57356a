// The engines' own prefix-cache figures for this job: what their /metrics counters
// (vllm:prefix_cache_queries_total / _hits_total, in prompt tokens) grew by since the job first
// read them. The share of prompt tokens an engine found cached is what prefix affinity buys.
import type { Engine } from "../pool/engine.js";

export interface PrefixCacheFigures {
  /** Prompt tokens the engines looked up in their prefix caches during this job. */
  queries: number;
  /** ...and found there (their prefill was skipped). */
  hits: number;
  /** hits / queries, or null before any query. */
  hitRate: number | null;
}

/** One engine's figures, or null when it does not report prefix-cache counters. */
export function enginePrefixCache(e: Engine): PrefixCacheFigures | null {
  const base = e.prefixBase;
  const q = e.metrics?.prefixQueries;
  const h = e.metrics?.prefixHits;
  if (base === null || q === undefined || h === undefined) return null;
  const queries = Math.max(0, q - base.queries);
  const hits = Math.max(0, h - base.hits);
  return { queries, hits, hitRate: queries > 0 ? hits / queries : null };
}

/** The pool's figures (engines that report them), or null when none does. */
export function poolPrefixCache(engines: readonly Engine[]): PrefixCacheFigures | null {
  let any = false;
  let queries = 0;
  let hits = 0;
  for (const e of engines) {
    const f = enginePrefixCache(e);
    if (f === null) continue;
    any = true;
    queries += f.queries;
    hits += f.hits;
  }
  return any ? { queries, hits, hitRate: queries > 0 ? hits / queries : null } : null;
}
