// `vbatch up | ps | down`: engines that outlive a run, recorded by name. The launchers (and execa
// under them) are loaded by the command that uses them, not by every command at start-up.
import type { Command } from "commander";
import { VbatchError } from "../../errors.js";
import { acquireLock } from "../../journal/lock.js";
import type { LaunchKind } from "../../launch/index.js";
import { engineStatus } from "../../launch/up/ps.js";
import {
  checkEngineGroupName,
  engineGroupLockPath,
  listEngines,
  readEngines,
  recordEngines,
  removeEngines,
} from "../../launch/up/state.js";
import { addEngineFlags, type LaunchFlags, launchOptions } from "../launch-flags.js";
import { createLogger, LOG_LEVELS } from "../logger.js";
import { oneOf } from "../options.js";

interface UpFlags extends LaunchFlags {
  launch: LaunchKind;
  model: string;
  name: string;
  logLevel?: string;
  logFile?: string;
}

/** A name that is up keeps its engines: starting more under it would orphan the first ones. */
function refuseIfUp(name: string): void {
  const { records, problems } = listEngines();
  const running = records.find((r) => r.name === name);
  const broken = problems.find((p) => p.startsWith(`${name}.json:`));
  if (!running && !broken) return;
  const what = running
    ? `${running.engines.length} engine${running.engines.length === 1 ? " is" : "s are"} already up as "${name}"`
    : `a record of engines named "${name}" exists but cannot be read (${broken})`;
  throw new VbatchError(
    "usage",
    `${what}: stop them with \`vbatch down ${name}\` (vbatch ps lists them), or pick another --name`,
  );
}

async function up(flags: UpFlags): Promise<void> {
  checkEngineGroupName(flags.name);
  // Held while the engines start, so two `up` of one name at once cannot both pass the check.
  const lock = acquireLock(
    engineGroupLockPath(flags.name),
    `vbatch up --name ${flags.name}`,
    () => undefined,
    "Wait for it, or pick another --name.",
  );
  try {
    refuseIfUp(flags.name);
    await upLocked(flags);
  } finally {
    lock.release();
  }
}

async function upLocked(flags: UpFlags): Promise<void> {
  const logger = createLogger({ level: flags.logLevel, file: flags.logFile, progressOnStderr: false });
  const { launchEngines } = await import("../../launch/launch.js");
  const launch = await launchEngines({
    ...launchOptions(flags.launch, flags, flags.model),
    keep: true,
    jobName: flags.name,
    logger,
  });
  const onSignal = () => {
    process.stderr.write("\nvbatch: stopping the engines started so far\n");
    launch.stop({ keep: false }).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const ready = await launch.allSettled();
    if (ready.length === 0) {
      await launch.stop({ keep: false });
      await launch.firstReady(); // rejects with the engines' log tails
      throw new VbatchError("engine_unavailable", "no engine became ready");
    }
    const file = recordEngines(launch.record(flags.name));
    await launch.stop();
    process.stdout.write(
      `${ready.length} engine${ready.length === 1 ? "" : "s"} up as "${flags.name}" (${file})\n`,
    );
    for (const line of launch.keepInstructions()) process.stdout.write(`  ${line}\n`);
    process.stdout.write(`use them with: vbatch run <input> -o <output> --engines ${flags.name}\n`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function ps(flags: { json?: boolean; wakeModal?: boolean }): Promise<void> {
  const { records, problems } = listEngines();
  const status = await engineStatus(records, { wakeModal: flags.wakeModal ?? false });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ engines: status, problems })}\n`);
    return;
  }
  if (status.length === 0) process.stdout.write("no engines recorded (start some with vbatch up)\n");
  else {
    const rows = [["GROUP", "NAME", "KIND", "HEALTH", "MODEL", "URL", "RUNNING", "WAITING"]];
    for (const s of status) {
      rows.push([
        s.group,
        s.name,
        s.kind,
        s.health,
        s.models.join(",") || "-",
        s.url,
        s.running === null ? "-" : String(s.running),
        s.waiting === null ? "-" : String(s.waiting),
      ]);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
    for (const r of rows)
      process.stdout.write(
        `${r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd()}\n`,
      );
  }
  for (const p of problems) process.stderr.write(`vbatch: ${p}\n`);
}

async function down(name: string): Promise<void> {
  const record = readEngines(name);
  const { stopRecorded } = await import("../../launch/up/down.js");
  const { stopped, problems, kept } = await stopRecorded(record);
  process.stdout.write(`stopped ${stopped.length} engine${stopped.length === 1 ? "" : "s"} of "${name}"\n`);
  for (const p of problems) process.stderr.write(`vbatch: ${p}\n`);
  if (kept.length === 0) {
    removeEngines(name);
    return;
  }
  // An engine that may still serve keeps its record: forgetting it would leave it running unseen.
  const keep = new Set(kept.map((k) => k.name));
  const file = recordEngines({ ...record, engines: record.engines.filter((e) => keep.has(e.name)) });
  for (const k of kept) process.stderr.write(`vbatch: ${k.message}\n`);
  throw new VbatchError(
    "engine_unavailable",
    `kept ${file}: ${kept.length} engine${kept.length === 1 ? "" : "s"} of "${name}" may still be running; stop ${kept.length === 1 ? "it" : "them"} as above, then run vbatch down ${name} again (or remove that file if ${kept.length === 1 ? "it is" : "they are"} not yours)`,
  );
}

export function registerEngineCommands(program: Command): void {
  const upCmd = program
    .command("up")
    .description("start vLLM engines that stay up across runs (use with run --engines <name>)")
    .requiredOption(
      "--launch <kind>",
      "process, docker or modal",
      oneOf("--launch", ["process", "docker", "modal"] as const),
    )
    .requiredOption("-m, --model <id>", "model to serve")
    .option("--name <name>", "name of this group of engines", "default")
    .option("--log-level <level>", `log level: ${LOG_LEVELS.join(", ")}`, oneOf("--log-level", LOG_LEVELS))
    .option("--log-file <file>", "write JSON logs here instead of stderr");
  addEngineFlags(upCmd).action((flags: UpFlags) => up(flags));
  program
    .command("ps")
    .description("list engines started with vbatch up: health, model, URL, load")
    .option("--json", "print as JSON")
    .option("--wake-modal", "also probe Modal apps (wakes a scaled-to-zero app)")
    .action((flags: { json?: boolean; wakeModal?: boolean }) => ps(flags));
  program
    .command("down")
    .description("stop engines started with vbatch up")
    .argument("[name]", "group name", "default")
    .action((name: string) => down(name));
}
