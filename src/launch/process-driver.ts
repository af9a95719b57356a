// `--launch process`: `vllm serve <model> --host 127.0.0.1 --port <p> ...` per GPU group, with
// CUDA_VISIBLE_DEVICES set, each in its own process group and writing to its own log file.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { execa, type Result } from "execa";
import type { Driver, EngineSlot, StartContext, StartedEngine } from "./driver.js";
import { showArgs } from "./log-lines.js";
import type { ResolvedLaunch } from "./options.js";
import { FileTail } from "./process/file-tail.js";
import { groupAlive, processStartTime, signalGroup, terminateGroup } from "./process/terminate.js";

/** argv after the binary: what `vllm serve` gets for one engine. */
export function vllmServeArgs(r: Pick<ResolvedLaunch, "model" | "tp" | "vllmArgs">, port: number): string[] {
  const args = ["serve", r.model, "--host", "127.0.0.1", "--port", String(port)];
  if (r.tp > 1) args.push("--tensor-parallel-size", String(r.tp));
  return [...args, ...r.vllmArgs];
}

function describeExit(r: Result): string {
  if (r.code === "ENOENT") return "could not be started: executable not found";
  if (r.signal) return `killed by ${r.signal}`;
  return `exited with code ${r.exitCode ?? "?"}`;
}

export class ProcessDriver implements Driver {
  readonly kind = "process" as const;
  private readonly pids = new Set<number>();

  constructor(private readonly r: ResolvedLaunch) {}

  async start(slot: EngineSlot, ctx: StartContext): Promise<StartedEngine> {
    const r = this.r;
    mkdirSync(r.logDir, { recursive: true });
    const logPath = join(r.logDir, `${slot.name}.log`);
    const from = FileTail.sizeOf(logPath);
    const args = vllmServeArgs(r, slot.port);
    const env: NodeJS.ProcessEnv = { ...r.env };
    if (slot.gpus.length > 0) env.CUDA_VISIBLE_DEVICES = slot.gpus.join(",");
    r.logger.info(
      { engine: slot.name, gpus: slot.gpus.join(",") || "all", log: logPath },
      `starting ${r.vllmBin} ${r.redact(showArgs(args))}`,
    );
    // A file, not a pipe: a kept engine must not die of SIGPIPE when vbatch exits.
    // execa's types list only small literal fds; any open fd is passed through as is at run time.
    const fd = openSync(logPath, "a") as 3;
    const spawn = () =>
      execa(r.vllmBin, args, {
        env,
        extendEnv: false,
        detached: true,
        cleanup: false,
        reject: false,
        stdin: "ignore",
        stdout: fd,
        stderr: fd,
      });
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn();
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    // Read now, while the pid is surely ours: `vbatch down` matches it to tell this process apart.
    const startTime = pid === undefined ? null : processStartTime(pid);
    if (pid !== undefined) {
      this.pids.add(pid);
      // Named in the log so an engine orphaned by `kill -9` of vbatch can be found.
      r.logger.info({ engine: slot.name, pid }, `engine process group ${pid} started`);
    }
    const tail = new FileTail(logPath, (line) => ctx.onLine(line), { from });
    const exited = child.then((res) => {
      tail.close();
      return describeExit(res);
    });
    void exited.then(() => {
      // The leader is gone; its workers die with the group at stop().
      if (pid !== undefined && !groupAlive(pid)) this.pids.delete(pid);
    });
    let stopped: Promise<void> | undefined;
    return {
      url: `http://127.0.0.1:${slot.port}`,
      exited,
      logPath,
      stop: (graceMs) => {
        stopped ??= (async () => {
          if (pid !== undefined) await terminateGroup(pid, graceMs, exited);
          else await exited;
          tail.close();
          if (pid !== undefined) this.pids.delete(pid);
        })();
        return stopped;
      },
      detach: () => {
        tail.close();
        child.unref();
        if (pid !== undefined) this.pids.delete(pid);
      },
      keepInstruction: () =>
        `${slot.name}: http://127.0.0.1:${slot.port}  (pid ${pid ?? "?"}, log ${logPath}); stop it: kill -TERM -- -${pid ?? "?"}`,
      record: () => ({ pid, log: logPath, ...(startTime === null ? {} : { startTime }) }),
    };
  }

  stopAllNow(): void {
    for (const pid of this.pids) signalGroup(pid, "SIGKILL");
    this.pids.clear();
  }
}
