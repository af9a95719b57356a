// `--launch modal`: `modal deploy deploy/modal/vllm_server.py`, configured through VBATCH_*
// environment variables, then the web URL it prints (or Modal reports) is the one engine; `modal
// app stop` at the end. Modal autoscales replicas behind that URL: one load-balanced engine.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { VbatchError } from "../errors.js";
import type { Driver, EngineSlot, StartContext, StartedEngine } from "./driver.js";
import { lookupModalWebUrl } from "./modal/lookup.js";
import { findModalWebUrl } from "./modal/url.js";
import type { ResolvedLaunch } from "./options.js";

/** The Modal app shipped in the package (deploy/ is in package.json "files"). */
export const MODAL_APP_FILE = fileURLToPath(new URL("../../deploy/modal/vllm_server.py", import.meta.url));

// Mirrors the defaults in vllm_server.py.
/** The function in vllm_server.py that serves vLLM. */
const WEB_FUNCTION = "serve";
const DEFAULT_MAX_CONTAINERS = 4;
const DEFAULT_MAX_NUM_SEQS = 256;

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The environment `modal deploy` runs with: what the app file reads at deploy time. */
export function modalDeployEnv(r: ResolvedLaunch): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...r.env,
    VBATCH_APP_NAME: r.modalApp,
    VBATCH_MODEL: r.model,
    VBATCH_GPU_COUNT: String(r.tp),
    VBATCH_VLLM_ARGS: JSON.stringify(r.vllmArgs),
    VBATCH_STARTUP_SECONDS: String(Math.ceil(r.startupTimeoutMs / 1000)),
    // Rich takes its width from COLUMNS (and LINES) when not on a terminal, else wraps at 80.
    COLUMNS: "1000",
    LINES: "1000",
  };
  if (r.modalGpu) env.VBATCH_GPU = r.modalGpu;
  return env;
}

export class ModalDriver implements Driver {
  readonly kind = "modal" as const;
  private deployed = false;

  constructor(private readonly r: ResolvedLaunch) {
    if (!existsSync(MODAL_APP_FILE)) {
      throw new VbatchError("internal", `the Modal app file is missing from this install: ${MODAL_APP_FILE}`);
    }
  }

  async start(_slot: EngineSlot, ctx: StartContext): Promise<StartedEngine> {
    const env = modalDeployEnv(this.r);
    this.r.logger.info({ app: this.r.modalApp, model: this.r.model }, `modal deploy ${MODAL_APP_FILE}`);
    this.deployed = true;
    const deploy = execa("modal", ["deploy", MODAL_APP_FILE], {
      env,
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: this.r.startupTimeoutMs,
      cancelSignal: ctx.signal,
    });
    for (const s of [deploy.stdout, deploy.stderr]) {
      if (s) createInterface({ input: s }).on("line", (l) => ctx.onLine(l));
    }
    const res = await deploy;
    // Its output is in the failure's log tail already.
    if (res.exitCode !== 0) {
      this.deployed = false;
      throw new VbatchError(
        "engine_unavailable",
        `modal deploy failed (exit ${res.exitCode ?? res.signal ?? "?"})`,
      );
    }
    const app = this.r.modalApp;
    // The whole output, not line by line: Rich may have wrapped the URL onto the following lines.
    let url = findModalWebUrl(String(res.stdout ?? "")) ?? findModalWebUrl(String(res.stderr ?? ""));
    if (url === undefined) {
      this.r.logger.info(
        { app },
        `modal deploy printed no web URL; asking Modal for ${app}'s ${WEB_FUNCTION}`,
      );
      const asked = await lookupModalWebUrl(app, WEB_FUNCTION, this.r.env, ctx.signal);
      url = asked.url;
      if (url === undefined) {
        await this.stopApp();
        throw new VbatchError(
          "engine_unavailable",
          `modal deploy printed no web URL for ${app}, and Modal could not be asked for it`,
          { details: [this.r.redact(asked.problem ?? ""), `the app was stopped (modal app stop ${app})`] },
        );
      }
    }
    const maxContainers = positiveInt(env.VBATCH_MAX_CONTAINERS, DEFAULT_MAX_CONTAINERS);
    const maxInputs = positiveInt(
      env.VBATCH_MAX_INPUTS,
      positiveInt(env.VBATCH_MAX_NUM_SEQS, DEFAULT_MAX_NUM_SEQS),
    );
    let release: (reason: string) => void = () => {};
    const exited = new Promise<string>((resolve) => {
      release = resolve;
    });
    let stopped: Promise<void> | undefined;
    const found = url;
    return {
      url: found,
      exited,
      maxInFlight: maxContainers * maxInputs,
      loadBalanced: true,
      stop: () => {
        stopped ??= (async () => {
          await this.stopApp();
          release("stopped");
        })();
        return stopped;
      },
      detach: () => {
        this.deployed = false;
        release("detached");
      },
      keepInstruction: () => `${app}: ${found}; stop it: modal app stop ${app}`,
      record: () => ({ maxInFlight: maxContainers * maxInputs, loadBalanced: true }),
    };
  }

  private async stopApp(): Promise<void> {
    if (!this.deployed) return;
    const res = await execa("modal", ["app", "stop", this.r.modalApp], {
      env: this.r.env,
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: 120_000,
    });
    this.deployed = false;
    if (res.exitCode !== 0) {
      this.r.logger.warn(
        { app: this.r.modalApp, stderr: this.r.redact(String(res.stderr).slice(-500)) },
        `modal app stop failed; stop it by hand: modal app stop ${this.r.modalApp}`,
      );
    }
  }

  stopAllNow(): void {
    if (!this.deployed) return;
    this.deployed = false;
    spawnSync("modal", ["app", "stop", this.r.modalApp], {
      env: this.r.env,
      stdio: "ignore",
      timeout: 60_000,
    });
  }
}
