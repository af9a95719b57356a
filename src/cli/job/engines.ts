// Where a terminal job's engines come from: --endpoint/--endpoints-file, the addresses of a DNS
// name watched while the job runs (--endpoints-dns), engines started for this job (--launch
// sim|process|docker|modal), or a group started earlier with `vbatch up` (--engines <name>).
// Each source registers how to release what it started.
import type { Logger } from "pino";
import { VbatchError } from "../../errors.js";
import type { EngineHint, EngineSource } from "../../job/options.js";
import type { Launch } from "../../launch/index.js";
import { readEngines } from "../../launch/up/state.js";
import { parseDnsTarget } from "../../pool/dns-names.js";
import { DnsEngineSource } from "../../pool/dns-source.js";
import { startSim } from "../../sim/index.js";
import { launchOptions } from "../launch-flags.js";
import type { JobFlags } from "./flags.js";
import { readEndpointsFile } from "./options.js";

export interface JobEngines {
  endpoints: string[];
  hints: Record<string, EngineHint>;
  source?: EngineSource | undefined;
  /** The launched engines, for a forced exit (second Ctrl-C). */
  launch?: Launch | undefined;
  release: () => Promise<void>;
}

const hintOf = (e: { maxInFlight?: number | undefined; loadBalanced?: boolean | undefined }): EngineHint => ({
  maxInFlight: e.maxInFlight,
  loadBalanced: e.loadBalanced,
});

export async function jobEngines(flags: JobFlags, logger: Logger, signal: AbortSignal): Promise<JobEngines> {
  const endpoints = [
    ...(flags.endpoint ?? []),
    ...(flags.endpointsFile ? readEndpointsFile(flags.endpointsFile) : []),
  ];
  const hints: Record<string, EngineHint> = {};
  if (flags.engines) {
    for (const e of readEngines(flags.engines).engines) {
      endpoints.push(e.url);
      hints[e.url] = hintOf(e);
    }
  }
  if (flags.endpointsDns !== undefined) {
    const target = parseDnsTarget(flags.endpointsDns);
    if (flags.launch) {
      throw new VbatchError(
        "usage",
        `--endpoints-dns and --launch ${flags.launch} do not go together: use one source of changing engines`,
      );
    }
    const dns = new DnsEngineSource({ target, logger });
    process.stderr.write(`vbatch: resolving --endpoints-dns ${target.name}:${target.port}\n`);
    endpoints.push(...(await dns.start({ waitMs: flags.engineWait * 1000, signal })));
    return { endpoints, hints, source: dns, release: async () => dns.stop() };
  }
  if (flags.launch === "sim") {
    const sim = await startSim({ model: flags.model ?? "sim-model" });
    logger.info({ url: sim.url }, "simulated engine started");
    return { endpoints: [...endpoints, sim.url], hints, release: () => sim.close() };
  }
  if (flags.launch) {
    if (!flags.model) throw new VbatchError("usage", `--launch ${flags.launch} needs --model <id>`);
    // Loaded only for a launch: the launchers and execa are a good part of a run's start-up.
    const { launchEngines } = await import("../../launch/index.js");
    const launch = await launchEngines({ ...launchOptions(flags.launch, flags, flags.model), logger });
    const release = async () => {
      await launch.stop();
      if (flags.keep) for (const l of launch.keepInstructions()) process.stderr.write(`${l}\n`);
    };
    const onAbort = () => {
      launch.stop().catch(() => {});
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      process.stderr.write(
        `vbatch: starting ${flags.launch} engines for ${flags.model}; waiting for the first to be ready\n`,
      );
      await launch.firstReady();
    } catch (err) {
      await launch.stop().catch(() => {});
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    for (const e of launch.engines()) {
      endpoints.push(e.url);
      hints[e.url] = hintOf(e);
    }
    return { endpoints, hints, source: launch, launch, release };
  }
  if (endpoints.length === 0 && flags.provider === undefined) {
    throw new VbatchError(
      "usage",
      "no engine: pass --endpoint <url> (repeatable), --endpoints-dns <name>, --engines <name> (from vbatch up), or --launch sim|process|docker|modal",
    );
  }
  return { endpoints, hints, release: async () => {} };
}
