// src/cli/job/ is what `vbatch run` and `vbatch retry` share: these flags, their mapping onto
// RunOptions (options.ts), where the engines come from (engines.ts) and the terminal session.
//
// The flags every job command shares (run, retry): engines, limits, retries, outputs, logs.
// Declared once so a new option cannot reach one command and not the other; what they map to is
// options.ts.
import { type Command, InvalidArgumentError } from "commander";
import { VbatchError } from "../../errors.js";
import { FORMAT_NAMES, type FormatName } from "../../formats/index.js";
import type { LaunchKind } from "../../launch/index.js";
import { type Shard, shardFromEnv } from "../../shard/env.js";
import { addLaunchFlags, type LaunchFlags } from "../launch-flags.js";
import { LOG_LEVELS } from "../logger.js";
import { type MaxFailed, parseMaxFailed } from "../max-failed.js";
import {
  collect,
  collectEndpoint,
  intFlag,
  MAX_LINE_FLAG,
  maxLineMbFlag,
  numberFlag,
  oneOf,
} from "../options.js";
import type { OverflowFlags } from "./overflow-flags.js";

export interface JobFlags extends LaunchFlags, OverflowFlags {
  output: string;
  errors?: string;
  journal?: string;
  endpoint?: string[];
  endpointsFile?: string;
  endpointsDns?: string;
  engineWait: number;
  /** "auto": read from the scheduler's environment when the job's options are made (shardFromEnv). */
  shard?: Shard | "auto";
  shards?: number;
  launch?: "sim" | LaunchKind;
  engines?: string;
  model?: string;
  modelMap?: string[];
  format?: FormatName;
  maxFailed?: MaxFailed;
  apiKey?: string;
  concurrency?: number;
  maxAttempts: number;
  requestTimeout: number;
  maxRps?: number;
  skipInvalid?: boolean;
  maxLineMb?: number;
  restart?: boolean;
  transport: "http" | "sdk";
  coalesce: boolean;
  prefixAffinity: boolean;
  lengthOrder: boolean;
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

export function parseShard(value: string): Shard | "auto" {
  if (value.trim() === "auto") return "auto";
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) {
    throw new InvalidArgumentError("--shard takes i/N with 0 <= i < N, e.g. 0/4, or auto");
  }
  return { index, count };
}

/**
 * --shard as the job uses it: i/N as given, or for "auto" the shard the scheduler's environment
 * gives (a Kubernetes Indexed Job, a Slurm array). --shards only goes with auto.
 */
export function resolveShard(
  flags: Pick<JobFlags, "shard" | "shards">,
  env: NodeJS.ProcessEnv = process.env,
): (Shard & { from?: string }) | undefined {
  if (flags.shards !== undefined && flags.shard !== "auto") {
    throw new VbatchError("usage", "--shards N goes with --shard auto (with --shard i/N the count is N)");
  }
  return flags.shard === "auto" ? shardFromEnv(env, flags.shards) : flags.shard;
}

/** Adds the shared flags (everything but the input and -o) to a command, in --help's order. */
export function addJobFlags(cmd: Command): Command {
  return reportFlags(requestFlags(limitAndInputFlags(fileAndEngineFlags(addLaunchFlags(cmd)))));
}

/** Where the job's files go and which engines it uses. */
function fileAndEngineFlags(cmd: Command): Command {
  return cmd
    .option("--errors <file>", "errors JSONL for failed rows (default: <output>.errors.jsonl beside it)")
    .option("--journal <file>", "checkpoint journal (default: <output>.vbatch.db beside it)")
    .option("-e, --endpoint <url>", "engine URL, http://host:8000 or .../v1 (repeatable)", collectEndpoint)
    .option("--endpoints-file <file>", "engine URLs, one a line (# comments allowed)")
    .option(
      "--endpoints-dns <name[:port]>",
      "every address the name resolves to is an engine (a Kubernetes headless Service), re-resolved as pods come and go; port 8000 by default",
    )
    .option(
      "--engine-wait <sec>",
      "when every engine is down, wait this long for one to come back before exit 1",
      numberFlag("--engine-wait", 0),
      600,
    )
    .option(
      "--launch <kind>",
      "start engines for this job: sim (simulated), process (vllm serve per GPU group), docker, modal",
      oneOf("--launch", ["sim", "process", "docker", "modal"] as const),
    )
    .option("--engines <name>", "use the engines `vbatch up --name <name>` started")
    .option("-m, --model <id>", "model for rows whose body has none (default: the engine's only model)")
    .option(
      "--model-map <from=to>",
      "send rows naming model FROM to model TO instead, e.g. gpt-4o=Qwen/Qwen3-8B (repeatable)",
      collect,
    )
    .option("--api-key <key>", "API key for the engines (default: $VBATCH_ENGINE_API_KEY)");
}

/** How hard engines are pushed, and which input rows the job takes. */
function limitAndInputFlags(cmd: Command): Command {
  return cmd
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
    .option(
      "--shard <i/N|auto>",
      "process only shard i of N (rows split by a hash of custom_id); auto: from a Kubernetes Indexed Job or Slurm array",
      parseShard,
    )
    .option(
      "--shards <n>",
      "with --shard auto: the number of shards (a Kubernetes Job's completions)",
      intFlag("--shards"),
    )
    .option("--skip-invalid", "send the valid rows and write invalid lines to the errors file")
    .option(...MAX_LINE_FLAG, maxLineMbFlag)
    .option("--restart", "discard an earlier run's journal and outputs and start over");
}

/** How each request is sent and what its answer must be. */
function requestFlags(cmd: Command): Command {
  return cmd
    .option(
      "--transport <kind>",
      "http (lean, default) or sdk (the openai SDK)",
      oneOf("--transport", ["http", "sdk"] as const),
      "http",
    )
    .option(
      "--format <name>",
      "read the input as openai, anthropic, gemini or bedrock batch lines (default: as the first valid line is)",
      oneOf("--format", FORMAT_NAMES),
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
    .option("--no-length-order", "send rows in input order even when their max_tokens vary")
    .option(
      "--no-prefix-affinity",
      "send rows in input order to the engine with the most room, ignoring shared prompt prefixes",
    );
}

/** What the run reports, and when it counts as failed. */
function reportFlags(cmd: Command): Command {
  return cmd
    .option(
      "--max-failed <n|p%>",
      "exit 3 when more rows than this (a count, or a percentage of the lines) end in the errors file",
      parseMaxFailed,
    )
    .option("--json", "print the summary as JSON on stdout")
    .option("--no-progress", "no progress line on stderr")
    .option("--log-level <level>", `log level: ${LOG_LEVELS.join(", ")}`, oneOf("--log-level", LOG_LEVELS))
    .option("--log-file <file>", "write JSON logs here instead of stderr")
    .hook("preAction", (_cmd, action) => {
      // Check the scheduler's environment before anything starts (exit 2 there), and say what it gave.
      const flags = action.opts<JobFlags>();
      const shard = resolveShard(flags);
      if (flags.shard === "auto" && shard) {
        process.stderr.write(`vbatch: --shard auto: shard ${shard.index}/${shard.count} (${shard.from})\n`);
      }
    });
}
