// The tools' library surface: build, validate, estimate, status and merge as typed functions that
// return data (the CLI commands are thin layers over these), plus shardOf for `--shard i/N`.

export { fnv1a32, shardOf } from "../shard/shard.js";
export { type BuildOptions, type BuildSummary, buildRequests } from "./build/index.js";
export { ENDPOINT_KINDS, type EndpointKind } from "./build/request.js";
export {
  DEFAULT_ASSUMED_OUTPUT_TOKENS,
  type EstimateOptions,
  type EstimateReport,
  estimateJob,
} from "./estimate/index.js";
export type { ProbeResult } from "./estimate/probe.js";
export { type MergeOptions, type MergeOrder, type MergeReport, mergeOutputs } from "./merge/index.js";
export {
  BATCH_PRICES,
  PRICES_AS_OF,
  type ProviderCost,
  type ProviderPrice,
  providerCosts,
} from "./prices.js";
export {
  type JobState,
  jobStatus,
  type StatusOptions,
  type StatusRate,
  type StatusReport,
} from "./status/index.js";
export { type HfTokenizer, loadHfTokenizer, type TokenizerScheme } from "./tokens/hf-tokenizer.js";
export type { ContextReport } from "./validate/context.js";
export { type ValidateOptions, type ValidateReport, validateInput } from "./validate/index.js";
