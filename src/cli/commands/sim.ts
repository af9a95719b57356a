// `vbatch sim`: the simulated vLLM server as a process, so launch code (spawn, health wait, log
// watching, teardown) and tests in other processes meet it exactly as they would meet `vllm serve`.

import { type Command, InvalidArgumentError, Option } from "commander";
import { startSim } from "../../sim/index.js";
import type { SimErrorFormat, SimOptions, SimServer } from "../../sim/types.js";
import { listenError } from "../../util/listen-error.js";

interface SimFlags {
  host: string;
  port: number;
  model?: string;
  maxModelLen?: number;
  maxNumSeqs?: number;
  prefillMs?: number;
  stepMs?: number;
  prefillRatio?: number;
  prefixCacheTokens?: number;
  outputTokens?: number;
  outputLen?: number;
  outputLenSpread?: number;
  embeddingDim?: number;
  metrics: boolean;
  errorFormat?: SimErrorFormat;
  errorRate?: number;
  rateLimitRate?: number;
  retryAfter?: number;
  dropRate?: number;
  exitAfter?: number;
  startupDelayMs?: number;
  seed?: number;
  trackRequests?: boolean;
  schedulingPolicy?: "fcfs" | "priority";
  badJsonRate?: number;
}

function integer(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

function nonNegative(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${flag} must be a number >= 0.`);
    }
    return n;
  };
}

function share(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new InvalidArgumentError(`${flag} must be a number between 0 and 1.`);
    }
    return n;
  };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function toOptions(f: SimFlags, onExit: () => void): SimOptions {
  const o: SimOptions = { host: f.host, port: f.port, metrics: f.metrics, onExit };
  if (f.model !== undefined) o.model = f.model;
  if (f.maxModelLen !== undefined) o.maxModelLen = f.maxModelLen;
  if (f.maxNumSeqs !== undefined) o.maxNumSeqs = f.maxNumSeqs;
  if (f.prefillMs !== undefined) o.prefillMs = f.prefillMs;
  if (f.stepMs !== undefined) o.stepMs = f.stepMs;
  if (f.prefillRatio !== undefined) o.prefillRatio = f.prefillRatio;
  if (f.prefixCacheTokens !== undefined) o.prefixCacheTokens = f.prefixCacheTokens;
  if (f.outputTokens !== undefined) o.outputTokens = f.outputTokens;
  if (f.outputLen !== undefined) o.outputLen = f.outputLen;
  if (f.outputLenSpread !== undefined) o.outputLenSpread = f.outputLenSpread;
  if (f.embeddingDim !== undefined) o.embeddingDim = f.embeddingDim;
  if (f.errorFormat !== undefined) o.errorFormat = f.errorFormat;
  if (f.exitAfter !== undefined) o.exitAfter = f.exitAfter;
  if (f.startupDelayMs !== undefined) o.startupDelayMs = f.startupDelayMs;
  if (f.seed !== undefined) o.seed = f.seed;
  if (f.trackRequests) o.trackRequests = true;
  if (f.schedulingPolicy !== undefined) o.schedulingPolicy = f.schedulingPolicy;
  if (f.badJsonRate !== undefined) o.badJsonRate = f.badJsonRate;
  o.faults = {};
  if (f.errorRate !== undefined) o.faults.errorRate = f.errorRate;
  if (f.rateLimitRate !== undefined) o.faults.rateLimitRate = f.rateLimitRate;
  if (f.retryAfter !== undefined) o.faults.retryAfterSeconds = f.retryAfter;
  if (f.dropRate !== undefined) o.faults.dropRate = f.dropRate;
  return o;
}

async function run(flags: SimFlags, exitAfter: number | undefined): Promise<void> {
  const onExit = () => {
    log(`ERROR:    EngineCore died: vbatch sim reached --exit-after ${exitAfter ?? "?"} requests`);
    process.exit(1);
  };
  log(`INFO:     Started server process [${process.pid}]`);
  log("INFO:     Waiting for application startup.");
  let server: SimServer;
  try {
    server = await startSim(toOptions(flags, onExit));
  } catch (err) {
    throw listenError(err, flags.host, flags.port);
  }
  log(`INFO:     Starting vLLM API server 0 on ${server.url}`);
  log("INFO:     Application startup complete.");
  log(`INFO:     Uvicorn running on ${server.url} (Press CTRL+C to quit)`);
  process.stdout.write(`vbatch sim listening on ${server.url}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // a second signal: stop waiting for in-flight requests
      server.kill();
      process.exit(0);
    }
    stopping = true;
    log(`INFO:     Shutting down (${signal})`);
    void server.close().then(() => {
      log(`INFO:     Finished server process [${process.pid}]`);
      process.exit(0);
    });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

export function registerSimCommand(program: Command): void {
  const cmd = program
    .command("sim")
    .description(
      "run a simulated vLLM OpenAI-compatible server (no GPU): continuous batching, /metrics, faults",
    );
  addFaultFlags(addEngineFlags(cmd)).action(async (_options: unknown, command: Command) => {
    await checkAndRun(command);
  });
}

/** What the simulated engine is: where it listens, what it serves, how fast it runs. */
function addEngineFlags(cmd: Command): Command {
  return cmd
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .addOption(
      new Option("--port <n>", "port to listen on (0 = any free port)")
        .argParser(integer("--port", 0, 65535))
        .default(8000),
    )
    .option("--model <id>", "served model id (default sim-model)")
    .addOption(
      new Option("--max-model-len <n>", "context length in tokens (default 4096)").argParser(
        integer("--max-model-len", 2),
      ),
    )
    .addOption(
      new Option("--max-num-seqs <n>", "running sequence slots (default 256)").argParser(
        integer("--max-num-seqs", 1),
      ),
    )
    .addOption(
      new Option("--prefill-ms <ms>", "time per request before decoding (default 5)").argParser(
        nonNegative("--prefill-ms"),
      ),
    )
    .addOption(
      new Option("--step-ms <ms>", "time per output token (default 2)").argParser(nonNegative("--step-ms")),
    )
    .addOption(
      new Option(
        "--prefill-ratio <n>",
        "a decode step costs the prefill of this many prompt tokens (default 634; 0 = prefill is free)",
      ).argParser(nonNegative("--prefill-ratio")),
    )
    .addOption(
      new Option(
        "--prefix-cache-tokens <n>",
        "prompt tokens the prefix cache holds, LRU (default 262144; 0 = no prefix caching)",
      ).argParser(integer("--prefix-cache-tokens", 0)),
    )
    .addOption(
      new Option("--output-tokens <n>", "tokens generated per request (default 16)").argParser(
        integer("--output-tokens", 1),
      ),
    )
    .addOption(
      new Option(
        "--output-len <n>",
        "mean tokens per request, each prompt's length drawn from a range around it (instead of --output-tokens)",
      ).argParser(integer("--output-len", 1)),
    )
    .addOption(
      new Option(
        "--output-len-spread <share>",
        "half-width of the --output-len range as a share of the mean (default 0.5: 0.5x to 1.5x)",
      ).argParser(share("--output-len-spread")),
    )
    .addOption(
      new Option("--embedding-dim <n>", "embedding vector size (default 8)").argParser(
        integer("--embedding-dim", 1),
      ),
    );
}

/** How it misbehaves on purpose: error shapes, faults, a death, a slow start. */
function addFaultFlags(cmd: Command): Command {
  return cmd
    .option("--no-metrics", "answer /metrics with 404, like a server that is not vLLM")
    .addOption(
      new Option("--error-format <format>", "error body shape (default new)").choices(["new", "old"]),
    )
    .addOption(
      new Option("--error-rate <share>", "share of requests answered 500").argParser(share("--error-rate")),
    )
    .addOption(
      new Option("--bad-json-rate <share>", "share of JSON-schema replies that come back broken").argParser(
        share("--bad-json-rate"),
      ),
    )
    .addOption(
      new Option("--rate-limit-rate <share>", "share of requests answered 429").argParser(
        share("--rate-limit-rate"),
      ),
    )
    .addOption(
      new Option("--retry-after <seconds>", "Retry-After of the 429s (default 1)").argParser(
        nonNegative("--retry-after"),
      ),
    )
    .addOption(
      new Option("--drop-rate <share>", "share of connections dropped unanswered").argParser(
        share("--drop-rate"),
      ),
    )
    .addOption(
      new Option("--exit-after <n>", "die (exit code 1) on receiving the Nth request").argParser(
        integer("--exit-after", 1),
      ),
    )
    .addOption(
      new Option("--startup-delay-ms <ms>", "refuse connections this long, like a loading model").argParser(
        nonNegative("--startup-delay-ms"),
      ),
    )
    .addOption(new Option("--seed <n>", "seed of the fault PRNG (default 1)").argParser(integer("--seed", 0)))
    .option("--track-requests", "count receptions per request body (see GET /sim/stats)")
    .addOption(
      new Option(
        "--scheduling-policy <policy>",
        "fcfs (default) refuses request priorities as vLLM does; priority accepts them",
      ).choices(["fcfs", "priority"]),
    );
}

/** Refuses flags that contradict each other (exit 2), then runs the server. */
async function checkAndRun(command: Command): Promise<void> {
  const flags = command.opts<SimFlags & Record<string, unknown>>();
  const rates = (flags.errorRate ?? 0) + (flags.rateLimitRate ?? 0) + (flags.dropRate ?? 0);
  if (rates > 1) {
    command.error("error: --error-rate + --rate-limit-rate + --drop-rate must not exceed 1", {
      exitCode: 2,
    });
  }
  if (flags.outputLen !== undefined && flags.outputTokens !== undefined) {
    command.error("error: --output-tokens (a fixed length) and --output-len (a mean) are alternatives", {
      exitCode: 2,
    });
  }
  if (flags.outputLenSpread !== undefined && flags.outputLen === undefined) {
    command.error("error: --output-len-spread needs --output-len", { exitCode: 2 });
  }
  await run(flags, flags.exitAfter);
}
