// --provider and its flags (run only): send the job to a provider's batch API instead of engines.
// The key comes from a file or the provider's usual environment variable, never from a flag, so
// it is never in the shell's history or the process list; it is never logged.
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { VbatchError } from "../../errors.js";
import { ANTHROPIC_URL, OPENAI_URL, type ProviderOptions } from "../../provider/options.js";
import { type BatchPrice, parsePrice } from "../../provider/report.js";
import { intFlag, numberFlag, oneOf } from "../options.js";

export interface ProviderFlags {
  provider?: "openai" | "anthropic" | "gemini" | "bedrock";
  providerUrl?: string;
  providerKeyFile?: string;
  chunkRows?: number;
  chunkMb?: number;
  pollInterval?: number;
  price?: BatchPrice;
  /** --overflow openai: the provider of a job with engines (overflow-flags.ts). */
  overflow?: "openai";
}

/** --price: "<in>/<out>", USD per million tokens. */
export function priceFlag(v: string): BatchPrice {
  const p = parsePrice(v);
  if (!p) throw new InvalidArgumentError("--price takes <in>/<out>, USD per million tokens, e.g. 0.075/0.3");
  return p;
}

export function addProviderFlags(cmd: Command): Command {
  return cmd
    .option(
      "--provider <name>",
      "send the rows to a provider's batch API instead of engines: openai (and compatible) or anthropic",
      oneOf("--provider", ["openai", "anthropic", "gemini", "bedrock"] as const),
    )
    .option(
      "--provider-url <url>",
      "the batch API's base URL (an OpenAI-compatible provider, a vbatch serve)",
    )
    .option(
      "--provider-key-file <file>",
      "the provider's API key (default: $OPENAI_API_KEY / $ANTHROPIC_API_KEY)",
    )
    .option("--chunk-rows <n>", "with --provider: most rows in one batch", intFlag("--chunk-rows"))
    .option(
      "--chunk-mb <n>",
      "with --provider: largest batch input, in MB (default 32)",
      numberFlag("--chunk-mb", 0.001),
    )
    .option(
      "--price <in/out>",
      "with --provider: USD per 1M input / output tokens at the batch price, e.g. 0.075/0.3",
      priceFlag,
    )
    .option(
      "--poll-interval <sec>",
      "with --provider: first wait between polls; it grows while nothing changes, up to 5 minutes (default 5)",
      numberFlag("--poll-interval", 0.01),
    );
}

const ENV = { openai: "OPENAI_API_KEY", anthropic: "ANTHROPIC_API_KEY" } as const;

/** The flags as ProviderOptions, or undefined without --provider; refuses what cannot work. */
export function providerOptionsOf(flags: ProviderFlags, env = process.env): ProviderOptions | undefined {
  if (flags.provider !== undefined && flags.overflow !== undefined) {
    throw new VbatchError(
      "usage",
      "--provider sends every row to the provider; --overflow goes with engines: pass one",
    );
  }
  const name = flags.provider ?? flags.overflow;
  const only = [
    "--provider-url",
    "--provider-key-file",
    "--chunk-rows",
    "--chunk-mb",
    "--poll-interval",
    "--price",
  ];
  if (name === undefined) {
    const given = [
      flags.providerUrl,
      flags.providerKeyFile,
      flags.chunkRows,
      flags.chunkMb,
      flags.pollInterval,
      flags.price,
    ];
    const i = given.findIndex((v) => v !== undefined);
    if (i >= 0)
      throw new VbatchError("usage", `${only[i]} goes with --provider openai|anthropic or --overflow openai`);
    return undefined;
  }
  if (name === "gemini" || name === "bedrock") {
    throw new VbatchError(
      "usage",
      `--provider ${name}: ${name === "gemini" ? "Gemini (Vertex AI) batch jobs read and write Google Cloud Storage" : "Bedrock batch inference jobs read and write S3"} and need ${name === "gemini" ? "a service account (IAM)" : "an IAM service role"}; vbatch does not send to them. Use --provider openai|anthropic, or run the rows on your own engines (the input is accepted as it is)`,
    );
  }
  let apiKey = env[ENV[name]];
  if (flags.providerKeyFile !== undefined) {
    try {
      apiKey = readFileSync(flags.providerKeyFile, "utf8").trim();
    } catch (err) {
      throw new VbatchError(
        "usage",
        `--provider-key-file ${flags.providerKeyFile}: ${(err as Error).message}`,
      );
    }
  }
  const url = flags.providerUrl;
  if (!apiKey && url === undefined) {
    throw new VbatchError(
      "usage",
      `--${flags.overflow ? "overflow" : "provider"} ${name}: no API key: set ${ENV[name]} or pass --provider-key-file <file> (a --provider-url of your own may need none)`,
    );
  }
  return {
    name,
    url: url ?? (name === "openai" ? OPENAI_URL : ANTHROPIC_URL),
    apiKey: apiKey || "none",
    chunkRows: flags.chunkRows,
    chunkBytes: flags.chunkMb === undefined ? undefined : Math.round(flags.chunkMb * 1_000_000),
    pollIntervalMs: flags.pollInterval === undefined ? undefined : flags.pollInterval * 1000,
    price: flags.price,
  };
}
