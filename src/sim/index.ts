// The simulator's public surface: a stand-in vLLM server for tests, benchmarks and dry runs on
// machines without a GPU.

export { simEmbedding, simReasoningText, simReplyText } from "./replies.js";
export { startSim } from "./server.js";
export type { SimErrorFormat, SimFaults, SimOptions, SimServer, SimStats } from "./types.js";
