// `vbatch run`: flags to RunOptions, signals to an AbortSignal, progress and summary to the
// terminal. All the work is runBatch's.
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { normalizeEndpoint } from "../../client/endpoint.js";
import { VbatchError } from "../../errors.js";
import type { RunOptions } from "../../run/options.js";
import type { RunSummary } from "../../run/progress.js";
import { runBatch } from "../../run/run-batch.js";
import { parseTags } from "../../run/tags.js";
import { startSim } from "../../sim/index.js";
import { createLogger, LOG_LEVELS } from "../logger.js";
import { collect, intFlag, numberFlag, oneOf } from "../options.js";
import { ProgressLine } from "../progress-line.js";
import { renderSummary } from "../summary.js";

interface RunFlags {
  output: string;
  errors?: string;
  journal?: string;
  endpoint?: string[];
  endpointsFile?: string;
  engineWait: number;
  shard?: { index: number; count: number };
  launch?: "sim";
  model?: string;
  apiKey?: string;
  concurrency?: number;
  maxAttempts: number;
  requestTimeout: number;
  maxRps?: number;
  skipInvalid?: boolean;
  restart?: boolean;
  transport: "http" | "sdk";
  coalesce: boolean;
  dedupe: "on" | "off" | "auto";
  tag?: string[];
  priority?: number;
  metricsPort?: number;
  validateJson?: boolean;
  jsonRetries: number;
  json?: boolean;
  progress: boolean;
  logLevel?: string;
  logFile?: string;
}

/** URLs from --endpoints-file: one a line; blank lines and # comments skipped. */
export function readEndpointsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new VbatchError("usage", `--endpoints-file ${path}: ${(err as Error).message}`);
  }
  const urls: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line.length === 0) return;
    try {
      urls.push(normalizeEndpoint(line, `${path}:${i + 1}:`));
    } catch (err) {
      throw new VbatchError("usage", (err as Error).message);
    }
  });
  if (urls.length === 0) throw new VbatchError("usage", `--endpoints-file ${path} lists no URL`);
  return urls;
}

function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) {
    throw new InvalidArgumentError("--shard takes i/N with 0 <= i < N, e.g. 0/4");
  }
  return { index, count };
}

/** Set by the command so bin.ts can map the summary to an exit code. */
export interface CommandResult {
  exitCode: number;
}

export function registerRunCommand(program: Command, result: CommandResult): void {
  program
    .command("run")
    .description("send every row of an OpenAI-batch JSONL file to vLLM engines; resumable")
    .argument("<input>", "input .jsonl or .jsonl.gz file, or - for stdin")
    .requiredOption("-o, --output <file>", "output JSONL for successful rows")
    .option("--errors <file>", "errors JSONL for failed rows (default: <output>.errors.jsonl beside it)")
    .option("--journal <file>", "checkpoint journal (default: <output>.vbatch.db beside it)")
    .option("-e, --endpoint <url>", "engine URL, http://host:8000 or .../v1 (repeatable)", collect)
    .option("--endpoints-file <file>", "engine URLs, one a line (# comments allowed)")
    .option(
      "--engine-wait <sec>",
      "when every engine is down, wait this long for one to come back before exit 1",
      numberFlag("--engine-wait", 0),
      600,
    )
    .option(
      "--launch <kind>",
      "start engines for this job: sim (a simulated engine)",
      oneOf("--launch", ["sim"] as const),
    )
    .option("-m, --model <id>", "model for rows whose body has none (default: the engine's only model)")
    .option("--api-key <key>", "API key for the engines (default: $VBATCH_ENGINE_API_KEY)")
    .option(
      "-c, --concurrency <n>",
      "fixed requests in flight per engine (default: adaptive)",
      intFlag("--concurrency"),
    )
    .option("--max-attempts <n>", "attempts per row before it is failed", intFlag("--max-attempts"), 5)
    .option(
      "--request-timeout <sec>",
      "seconds before one request times out",
      numberFlag("--request-timeout", 1),
      600,
    )
    .option(
      "--max-rps <n>",
      "at most this many requests per second across engines",
      numberFlag("--max-rps", 0.001),
    )
    .option("--shard <i/N>", "process only shard i of N (rows split by a hash of custom_id)", parseShard)
    .option("--skip-invalid", "send the valid rows and write invalid lines to the errors file")
    .option("--restart", "discard an earlier run's journal and outputs and start over")
    .option(
      "--transport <kind>",
      "http (lean, default) or sdk (the openai SDK)",
      oneOf("--transport", ["http", "sdk"] as const),
      "http",
    )
    .option(
      "--dedupe <mode>",
      "send identical requests once: auto (only deterministic ones: embeddings, temperature 0, a seed), on, off",
      oneOf("--dedupe", ["on", "off", "auto"] as const),
      "auto",
    )
    .option(
      "--tag <key=value>",
      "job metadata, kept in the journal, summary and request ids (repeatable)",
      collect,
    )
    .option(
      "--priority <n>",
      "vLLM priority for rows that set none (lower first; engine needs --scheduling-policy priority)",
      intFlag("--priority", Number.MIN_SAFE_INTEGER),
    )
    .option(
      "--metrics-port <port>",
      "serve the runner's Prometheus metrics on 127.0.0.1:<port>",
      intFlag("--metrics-port", 0),
    )
    .option("--validate-json", "check replies to rows that ask for JSON against their schema")
    .option(
      "--json-retries <n>",
      "ask again this many times for a reply that fails --validate-json",
      intFlag("--json-retries", 0),
      2,
    )
    .option("--no-coalesce", "send every embedding row as its own request")
    .option("--json", "print the summary as JSON on stdout")
    .option("--no-progress", "no progress line on stderr")
    .option("--log-level <level>", `log level: ${LOG_LEVELS.join(", ")}`, oneOf("--log-level", LOG_LEVELS))
    .option("--log-file <file>", "write JSON logs here instead of stderr")
    .action(async (input: string, flags: RunFlags) => {
      const summary = await runCommand(input, flags);
      result.exitCode = summary.interrupted ? 130 : 0;
    });
}

async function runCommand(input: string, flags: RunFlags): Promise<RunSummary> {
  const tty = Boolean(process.stderr.isTTY) && flags.progress;
  const logger = createLogger({ level: flags.logLevel, file: flags.logFile, progressOnStderr: tty });
  const endpoints = [
    ...(flags.endpoint ?? []),
    ...(flags.endpointsFile ? readEndpointsFile(flags.endpointsFile) : []),
  ];
  const releases: (() => Promise<void>)[] = [];
  if (flags.launch === "sim") {
    const sim = await startSim({ model: flags.model ?? "sim-model" });
    releases.push(() => sim.close());
    endpoints.push(sim.url);
    logger.info({ url: sim.url }, "simulated engine started");
  }
  if (endpoints.length === 0) {
    throw new VbatchError("usage", "no engine: pass --endpoint <url> (repeatable) or --launch sim");
  }

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\nvbatch: ${sig}: finishing in-flight rows (press Ctrl-C again to exit now)\n`);
      controller.abort();
    } else {
      // Everything committed so far is consistent on disk; uncommitted answers are re-sent on resume.
      process.stderr.write("\nvbatch: exiting now; re-run the same command to resume\n");
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const line = tty ? new ProgressLine(process.stderr) : undefined;
  const options: RunOptions = {
    input,
    output: flags.output,
    errors: flags.errors,
    journal: flags.journal,
    endpoints,
    model: flags.model,
    apiKey: flags.apiKey,
    concurrency: flags.concurrency,
    maxAttempts: flags.maxAttempts,
    engineWaitMs: flags.engineWait * 1000,
    shard: flags.shard,
    requestTimeoutMs: flags.requestTimeout * 1000,
    maxRequestsPerSecond: flags.maxRps,
    skipInvalid: flags.skipInvalid ?? false,
    restart: flags.restart ?? false,
    transport: flags.transport,
    coalesce: flags.coalesce,
    dedupe: flags.dedupe,
    validateJson: flags.validateJson ?? false,
    jsonRetries: flags.jsonRetries,
    tags: parseTags(flags.tag ?? []),
    priority: flags.priority,
    metricsPort: flags.metricsPort,
    onMetricsUrl: (url) => process.stderr.write(`vbatch: runner metrics at ${url}\n`),
    signal: controller.signal,
    onProgress: line ? (p) => line.update(p) : undefined,
    logger,
  };
  try {
    const summary = await runBatch(options);
    line?.clear();
    process.stderr.write(renderSummary(summary));
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary;
  } finally {
    line?.clear();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    for (const r of releases.reverse()) await r();
  }
}
