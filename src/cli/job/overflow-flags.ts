// --deadline and --overflow (run only): a job on your engines that moves just enough rows to a
// provider's batch API to finish by the deadline (src/provider/overflow.ts).
import { type Command, InvalidArgumentError } from "commander";
import { VbatchError } from "../../errors.js";
import type { RunOptions } from "../../job/options.js";
import { parseDuration } from "../../server/options.js";
import { numberFlag, oneOf } from "../options.js";
import { type ProviderFlags, providerOptionsOf } from "./provider-flags.js";

export interface OverflowFlags extends ProviderFlags {
  deadline?: number;
  overflowBudget?: number;
  overflowMargin?: number;
}

/** "07:00" (the next time the clock shows it, here) or an ISO date-time, as ms since the epoch. */
export function parseDeadline(text: string, now = new Date()): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (m) {
    const [h, min] = [Number(m[1]), Number(m[2])];
    if (h > 23 || min > 59) throw new InvalidArgumentError(`--deadline ${text}: not a time of day`);
    const d = new Date(now);
    d.setHours(h, min, 0, 0);
    if (d.getTime() <= now.getTime()) d.setDate(d.getDate() + 1);
    return d.getTime();
  }
  const t = Date.parse(text);
  if (!Number.isFinite(t))
    throw new InvalidArgumentError("--deadline takes HH:MM or an ISO date-time, e.g. 2026-12-07T07:00:00Z");
  return t;
}

export function addOverflowFlags(cmd: Command): Command {
  return cmd
    .option("--deadline <HH:MM|ISO>", "with --overflow: when every row should be done", (v: string) =>
      parseDeadline(v),
    )
    .option(
      "--overflow <provider>",
      "with engines: move just enough rows to this provider's batch API to finish by --deadline (openai)",
      oneOf("--overflow", ["openai"] as const),
    )
    .option(
      "--overflow-budget <usd>",
      "with --overflow: spend at most this much at the batch price",
      numberFlag("--overflow-budget", 0),
    )
    .option(
      "--overflow-margin <duration>",
      "with --overflow: the provider's own turnaround: no batch later than deadline minus this (default 1h)",
      (v: string) => {
        const ms = parseDuration(v);
        if (ms === undefined)
          throw new InvalidArgumentError("--overflow-margin takes a duration: 90m, 2h, 30s");
        return ms;
      },
    );
}

/** The flags as RunOptions.overflow, or undefined without --overflow; refuses what cannot work. */
export function overflowOptionsOf(flags: OverflowFlags, env = process.env): RunOptions["overflow"] {
  if (flags.overflow === undefined) {
    const i = [flags.deadline, flags.overflowBudget, flags.overflowMargin].findIndex((v) => v !== undefined);
    if (i >= 0)
      throw new VbatchError(
        "usage",
        `${["--deadline", "--overflow-budget", "--overflow-margin"][i]} goes with --overflow openai`,
      );
    return undefined;
  }
  if (flags.deadline === undefined) throw new VbatchError("usage", "--overflow needs --deadline <HH:MM|ISO>");
  const provider = providerOptionsOf(flags, env);
  if (!provider) return undefined;
  return {
    deadline: flags.deadline,
    marginMs: flags.overflowMargin,
    budgetUsd: flags.overflowBudget,
    provider,
  };
}
