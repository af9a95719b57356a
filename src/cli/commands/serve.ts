// `vbatch serve`: flags to ServerOptions, engines launched if asked, then serve until SIGINT or
// SIGTERM. All the work is startServer's; keys come from a file, VBATCH_API_KEYS or flags, and no
// message or log ever shows one.
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { VbatchError } from "../../errors.js";
import { checkApiKey, isLoopback, noKeyError, parseDuration } from "../../server/options.js";
import { startSim } from "../../sim/index.js";
import { createLogger, LOG_LEVELS } from "../logger.js";
import { collect, collectEndpoint, intFlag, oneOf } from "../options.js";

interface ServeFlags {
  data: string;
  host: string;
  port: number;
  apiKey?: string[];
  apiKeyFile?: string;
  endpoint?: string[];
  launch?: "sim";
  model?: string;
  engineApiKey?: string;
  maxConcurrentBatches: number;
  concurrency?: number;
  maxFileBytes: number;
  maxBatchRows: number;
  retention: number;
  uploadTimeout: number;
  publicUrl?: string;
  logLevel?: string;
  logFile?: string;
}

function duration(flag: string) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new InvalidArgumentError(`${flag} takes a duration such as 30d, 12h or 90m`);
    return ms;
  };
}

function portFlag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("--port takes 0 to 65535");
  return n;
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve the OpenAI Batch and Anthropic Message Batches APIs over your vLLM engines")
    .option("--data <dir>", "state database and files", "vbatch-data")
    .option(
      "--host <address>",
      "address to bind, e.g. 0.0.0.0 or [::1] (an address other than loopback needs a key)",
      "127.0.0.1",
    )
    .option("--port <n>", "port (0 = any free port)", portFlag, 8080)
    .option(
      "--api-key-file <file>",
      "keys clients must send, one a line (# comments); unlike --api-key, not visible in ps",
    )
    .option(
      "--api-key <key>",
      "key clients must send (repeatable; visible in ps: prefer --api-key-file or $VBATCH_API_KEYS, comma-separated)",
      collect,
    )
    .option("-e, --endpoint <url>", "engine URL, http://host:8000 or .../v1 (repeatable)", collectEndpoint)
    .option("--launch <kind>", "start an engine in process: sim", oneOf("--launch", ["sim"] as const))
    .option(
      "-m, --model <id>",
      "model for requests naming one the engines do not serve (default: their only model)",
    )
    .option("--engine-api-key <key>", "API key for the engines (default: $VBATCH_ENGINE_API_KEY)")
    .option(
      "--max-concurrent-batches <n>",
      "batches running at once; others wait in creation order",
      intFlag("--max-concurrent-batches"),
      2,
    )
    .option(
      "-c, --concurrency <n>",
      "fixed requests in flight per engine for each running batch (default: adaptive)",
      intFlag("--concurrency"),
    )
    .addOption(
      new Option("--max-file-bytes <n>", "largest upload in bytes")
        .argParser(intFlag("--max-file-bytes"))
        .default(200 * 1024 * 1024, "200 MiB"),
    )
    .option("--max-batch-rows <n>", "most requests in one batch", intFlag("--max-batch-rows"), 100_000)
    .addOption(
      new Option("--retention <duration>", "delete files and results this long after they were made")
        .argParser(duration("--retention"))
        .default(30 * 86_400_000, "30d"),
    )
    .addOption(
      new Option("--upload-timeout <duration>", "time a client gets to send a whole request, upload included")
        .argParser(duration("--upload-timeout"))
        .default(10 * 60_000, "10m"),
    )
    .option("--public-url <url>", "base URL clients reach this server at (for results_url)")
    .option("--log-level <level>", `log level: ${LOG_LEVELS.join(", ")}`, oneOf("--log-level", LOG_LEVELS))
    .option("--log-file <file>", "write JSON logs here instead of stderr")
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
}

/**
 * One key a line; blank lines and # comments skipped, each line trimmed (CRLF files, a BOM).
 * Errors name the file and a line number, never a line's content.
 */
function readKeyFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code;
    throw new VbatchError("usage", `--api-key-file ${path}: cannot read it (${why ?? "unknown error"})`);
  }
  const keys: string[] = [];
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    keys.push(checkApiKey(trimmed, `--api-key-file ${path} line ${i + 1}`));
  });
  if (keys.length === 0) {
    throw new VbatchError(
      "usage",
      `--api-key-file ${path}: no key in it (one key a line; blank lines and # comments are skipped)`,
    );
  }
  return keys;
}

/**
 * Every key from every source, each checked: a blank one is refused, not dropped, since dropping it
 * could leave a server its operator meant to protect open. An empty VBATCH_API_KEYS counts as unset.
 */
function collectApiKeys(flags: ServeFlags): string[] {
  const keys = (flags.apiKey ?? []).map((k, i) => checkApiKey(k, `--api-key #${i + 1}`));
  const env = process.env.VBATCH_API_KEYS;
  if (env !== undefined && env !== "") {
    keys.push(...env.split(",").map((k, i) => checkApiKey(k, `VBATCH_API_KEYS entry ${i + 1}`)));
  }
  if (flags.apiKeyFile !== undefined) keys.push(...readKeyFile(flags.apiKeyFile));
  return keys;
}

async function serve(flags: ServeFlags): Promise<void> {
  const apiKeys = collectApiKeys(flags);
  // Checked before anything starts, so a misconfigured server never listens even for a moment.
  if (!isLoopback(flags.host) && apiKeys.length === 0) throw noKeyError(flags.host);
  const logger = createLogger({ level: flags.logLevel, file: flags.logFile, progressOnStderr: false });
  const releases: (() => Promise<void>)[] = [];
  const release = async () => {
    for (const r of releases.splice(0).reverse()) await r();
  };
  // Released last, so a second Ctrl-C still forces an exit while batches are being stopped.
  let onSignal: (sig: NodeJS.Signals) => void = () => {};
  releases.push(async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  });
  try {
    const endpoints = [...(flags.endpoint ?? [])];
    if (flags.launch === "sim") {
      const sim = await startSim({ model: flags.model ?? "sim-model" });
      releases.push(() => sim.close());
      endpoints.push(sim.url);
      logger.info({ url: sim.url }, "simulated engine started");
    }
    if (endpoints.length === 0) {
      throw new VbatchError("usage", "no engine: pass --endpoint <url> (repeatable) or --launch sim");
    }
    let lost: (err: VbatchError) => void = () => {};
    // Loaded by this command only: the server is not part of any other command's start-up.
    const { startServer } = await import("../../server/index.js");
    const server = await startServer({
      endpoints,
      dataDir: flags.data,
      host: flags.host,
      port: flags.port,
      apiKeys,
      model: flags.model,
      engineApiKey: flags.engineApiKey,
      maxConcurrentBatches: flags.maxConcurrentBatches,
      concurrency: flags.concurrency,
      maxFileBytes: flags.maxFileBytes,
      maxBatchRows: flags.maxBatchRows,
      retentionMs: flags.retention,
      requestTimeoutMs: flags.uploadTimeout,
      publicUrl: flags.publicUrl,
      logger,
      onLost: (err) => lost(err),
    });
    releases.push(() => server.close());
    process.stdout.write(`vbatch serve listening on ${server.url} (OpenAI base_url ${server.url}/v1)\n`);
    await new Promise<void>((resolve, reject) => {
      // Another server took the data dir over (its lock file was deleted): exit 1 with its line.
      lost = reject;
      let signals = 0;
      onSignal = (sig) => {
        signals++;
        // A second signal exits at once: every batch's state is in SQLite and resumes on restart.
        if (signals > 1) process.exit(130);
        process.stderr.write(`vbatch serve: ${sig}: stopping (running batches resume on restart)\n`);
        resolve();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
  } finally {
    await release();
  }
}
