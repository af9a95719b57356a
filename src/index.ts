// The library surface: what the CLI, `vbatch serve` and users' own code call.
export { type ErrorCode, VbatchError } from "./errors.js";
export type { RunOptions } from "./job/options.js";
export { type RetryOptions, type RetrySummary, retryFailed } from "./job/retry/retry.js";
export { runBatch } from "./job/run-batch.js";
export * from "./launch/index.js";
export type { EngineProgress, RunProgress, RunSummary } from "./progress/progress.js";
export { type RunningServer, type ServerOptions, startServer } from "./server/index.js";
export * from "./tools/index.js";
