// The Dockerfile's steps run for real, without a Docker daemon: each stage gets a scratch root, its
// COPY lines copy from this checkout (or from the build stage's root), its RUN lines run there
// (apt-get aside: the system packages it installs are what this machine already needs for
// better-sqlite3), and the runtime stage's ENTRYPOINT, found through its PATH, prints the version
// and runs the README's quick start as an unprivileged user. npm ci and compiling better-sqlite3
// take minutes, so this runs only with VBATCH_SLOW_CHECKS=1, as .ci/run does after the suite.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { execForm, last, parseCopy, readDockerfile, type Stage } from "./helpers/dockerfile.js";

const root = join(import.meta.dirname, "..");
const slow = process.env.VBATCH_SLOW_CHECKS === "1";
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

interface Replayed {
  /** The stage's filesystem root. */
  fs: string;
  workdir: string;
  path: string[];
  /** Where each COPY source landed, on the host. */
  copied: Map<string, string>;
}

/** Runs one stage's steps in a scratch root; `stages` are the roots of the stages before it. */
function replay(stage: Stage, stages: Map<string, Replayed>, scratch: string): Replayed {
  const fs = join(scratch, stage.name ?? "final");
  mkdirSync(fs, { recursive: true });
  const r: Replayed = { fs, workdir: "/", path: [], copied: new Map() };
  const inRoot = (p: string) => join(fs, p.startsWith("/") ? p : join(r.workdir, p));
  for (const step of stage.steps) {
    if (step.op === "WORKDIR") {
      r.workdir = step.args;
      mkdirSync(inRoot("."), { recursive: true });
    } else if (step.op === "COPY") {
      const c = parseCopy(step.args);
      const from = c.from ? (stages.get(c.from) as Replayed).fs : root;
      for (const src of c.sources) {
        const dest = c.dest.endsWith("/")
          ? join(inRoot(c.dest), src.split("/").at(-1) as string)
          : inRoot(c.dest);
        mkdirSync(dirname(dest), { recursive: true });
        cpSync(join(from, src), dest, { recursive: true, verbatimSymlinks: true });
        r.copied.set(src, dest);
      }
    } else if (step.op === "RUN") {
      if (/^apt-get\b/.test(step.args)) continue;
      execFileSync("sh", ["-c", step.args], { cwd: inRoot("."), stdio: "inherit" });
    } else if (step.op === "ENV") {
      const m = /^PATH=(\S+)$/.exec(step.args);
      if (m)
        r.path = (m[1] as string)
          .split(":")
          .filter((p) => p !== "$PATH")
          .map((p) => join(fs, p));
    }
  }
  return r;
}

describe.skipIf(!slow)("Dockerfile steps, replayed without a daemon (VBATCH_SLOW_CHECKS=1)", () => {
  it(
    "build and runtime stages give an image whose entrypoint prints the version and runs the quick start",
    () => {
      const scratch = mkdtempSync(join(tmpdir(), "vbatch-docker-"));
      chmodSync(scratch, 0o755); // the unprivileged user below reads the runtime root
      const stages = new Map<string, Replayed>();
      let final: Replayed | undefined;
      const all = readDockerfile(root);
      for (const stage of all) {
        final = replay(stage, stages, scratch);
        if (stage.name) stages.set(stage.name, final);
      }
      const image = final as Replayed;
      const runtime = all.at(-1) as Stage;
      const [entry, ...entryArgs] = execForm(last(runtime, "ENTRYPOINT") ?? "[]");
      const env = {
        ...process.env,
        PATH: [...image.path, process.env.PATH].join(":"),
        NODE_ENV: "production",
      };
      // As the image's user would: not root, so nothing it needs may be root-only.
      const asUser = (args: string[], cwd: string) => {
        const cmd = [entry as string, ...entryArgs, ...args];
        const unprivileged = process.getuid?.() === 0 && spawnSync("runuser", ["--help"]).status === 0;
        return unprivileged
          ? spawnSync("runuser", ["-u", "nobody", "--", "env", `PATH=${env.PATH}`, ...cmd], {
              cwd,
              encoding: "utf8",
            })
          : spawnSync(cmd[0] as string, cmd.slice(1), { cwd, env, encoding: "utf8" });
      };
      const v = asUser(["--version"], scratch);
      expect(v.stderr).toBe("");
      expect(v.stdout.trim()).toBe(version);

      const work = join(scratch, "data");
      mkdirSync(work, { mode: 0o777 });
      chmodSync(work, 0o777);
      const example = image.copied.get("examples") as string;
      const q = asUser(
        ["run", join(example, "quickstart.jsonl"), "-o", "out.jsonl", "--launch", "sim"],
        work,
      );
      expect(q.status, q.stderr).toBe(0);
      const rows = readFileSync(join(example, "quickstart.jsonl"), "utf8").trim().split("\n").length;
      expect(readFileSync(join(work, "out.jsonl"), "utf8").trim().split("\n")).toHaveLength(rows);
    },
    15 * 60_000,
  );
});
