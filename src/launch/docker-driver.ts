// `--launch docker`: one `docker run -d` container per GPU group on the local or a remote daemon,
// `docker logs -f` into vbatch's log, `docker stop` then `docker rm -f` at teardown.
import { spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { dockerEngineUrl, dockerRunArgs } from "./docker/args.js";
import { dockerFailure } from "./docker/preflight.js";
import type { Driver, EngineSlot, StartContext, StartedEngine } from "./driver.js";
import { showArgs } from "./log-lines.js";
import type { ResolvedLaunch } from "./options.js";

export function dockerEnv(r: Pick<ResolvedLaunch, "env" | "dockerHost">): NodeJS.ProcessEnv {
  return r.dockerHost ? { ...r.env, DOCKER_HOST: r.dockerHost } : { ...r.env };
}

export class DockerDriver implements Driver {
  readonly kind = "docker" as const;
  /** Containers this launch created (or is creating) and has not removed. */
  private readonly names = new Set<string>();
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly r: ResolvedLaunch) {
    this.env = dockerEnv(r);
  }

  private docker(args: string[], timeoutMs = 120_000) {
    return execa("docker", args, {
      env: this.env,
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: timeoutMs,
    });
  }

  async start(slot: EngineSlot, ctx: StartContext): Promise<StartedEngine> {
    const args = dockerRunArgs(this.r, slot);
    this.r.logger.info({ engine: slot.name }, `starting docker ${this.r.redact(showArgs(args))}`);
    this.names.add(slot.name);
    // `run -d` pulls the image first when it is missing: many GB, so it gets the startup budget.
    const run = execa("docker", args, {
      env: this.env,
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: this.r.startupTimeoutMs,
      cancelSignal: ctx.signal,
    });
    if (run.stderr) createInterface({ input: run.stderr }).on("line", (l) => ctx.onLine(l));
    const res = await run;
    if (res.exitCode !== 0) {
      // A failed run can still leave a created container behind; a name conflict means the
      // container is someone else's (an earlier --keep), which is not ours to remove.
      if (/Conflict\. The container name/i.test(String(res.stderr))) this.names.delete(slot.name);
      else await this.remove(slot.name);
      throw dockerFailure(
        `docker run for ${slot.name}`,
        String(res.stderr ?? res.message),
        this.r.dockerHost,
        this.r.image,
      );
    }
    return this.watch(slot, ctx);
  }

  private watch(slot: EngineSlot, ctx: StartContext): StartedEngine {
    let follower: ResultPromise | undefined;
    let watching = true;
    const follow = (fromStart: boolean) => {
      const args = ["logs", "-f", ...(fromStart ? [] : ["--since", "1s"]), slot.name];
      const p = execa("docker", args, {
        env: this.env,
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        buffer: false,
      });
      for (const s of [p.stdout, p.stderr])
        if (s) createInterface({ input: s }).on("line", (l) => ctx.onLine(l));
      follower = p;
      return p;
    };
    // `logs -f` ends when the container stops (or the connection to the daemon drops: then follow again).
    const exited = (async (): Promise<string> => {
      let first = true;
      for (;;) {
        const logs = await follow(first);
        first = false;
        if (!watching) return "stopped";
        const state = await this.docker([
          "inspect",
          "--format",
          "{{.State.Status}} {{.State.ExitCode}}",
          slot.name,
        ]);
        const [status, code] = String(state.stdout).trim().split(/\s+/);
        if (state.exitCode === 0 && status === "running") {
          if (logs.exitCode === 0) await sleep(500);
          else {
            // A logging driver that cannot be read: no log lines, but still notice the exit.
            this.r.logger.warn({ engine: slot.name }, "docker logs failed; watching with docker wait");
            follower = execa("docker", ["wait", slot.name], {
              env: this.env,
              extendEnv: false,
              reject: false,
              stdin: "ignore",
            });
            await follower;
          }
          continue;
        }
        if (!watching) return "stopped";
        // Keep nothing dead behind: a restart reuses the name.
        await this.remove(slot.name);
        return state.exitCode === 0 ? `container ${status} with code ${code}` : "container disappeared";
      }
    })();
    const url = dockerEngineUrl(this.r, slot.port);
    const hostPrefix = this.r.dockerHost ? `DOCKER_HOST=${this.r.dockerHost} ` : "";
    let stopped: Promise<void> | undefined;
    return {
      url,
      exited,
      stop: (graceMs) => {
        stopped ??= (async () => {
          watching = false;
          if (this.names.has(slot.name)) {
            await this.docker(["stop", "-t", String(Math.max(1, Math.ceil(graceMs / 1000))), slot.name]);
            await this.remove(slot.name);
          }
          follower?.kill();
          await exited;
        })();
        return stopped;
      },
      detach: () => {
        watching = false;
        this.names.delete(slot.name);
        follower?.kill();
      },
      keepInstruction: () => `${slot.name}: ${url}; stop it: ${hostPrefix}docker rm -f ${slot.name}`,
      record: () => ({ container: slot.name }),
    };
  }

  private async remove(name: string): Promise<void> {
    await this.docker(["rm", "-f", name]);
    this.names.delete(name);
  }

  stopAllNow(): void {
    if (this.names.size === 0) return;
    spawnSync("docker", ["rm", "-f", ...this.names], { env: this.env, stdio: "ignore", timeout: 60_000 });
    this.names.clear();
  }
}
