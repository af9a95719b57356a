// The library surface: what the CLI, `vbatch serve` and users' own code call.
export { type ErrorCode, VbatchError } from "./errors.js";
export * from "./launch/index.js";
export type { RunOptions } from "./run/options.js";
export type { EngineProgress, RunProgress, RunSummary } from "./run/progress.js";
export { type RetryOptions, type RetrySummary, retryFailed } from "./run/retry.js";
export { runBatch } from "./run/run-batch.js";
export { type RunningServer, type ServerOptions, startServer } from "./server/index.js";
export * from "./tools/index.js";
