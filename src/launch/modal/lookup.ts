// Asks Modal itself for the deployed function's web URL when `modal deploy` printed none (some CLI
// versions print only `View Deployment`; `modal app list --json` has no URLs). It runs
// `modal.Function.from_name(app, "serve").get_web_url()` in the Python that runs the modal CLI.
import { closeSync, openSync, readSync } from "node:fs";
import { execa } from "execa";
import { findExecutable } from "../../util/which.js";

// get_web_url() since modal 1.0; the web_url property before it.
const LOOKUP = [
  "import sys, modal",
  "f = modal.Function.from_name(sys.argv[1], sys.argv[2])",
  "get = getattr(f, 'get_web_url', None)",
  "print((get() if get else f.web_url) or '')",
].join("\n");

function firstLines(path: string): string[] {
  const buf = Buffer.alloc(1024);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    return buf
      .subarray(0, readSync(fd, buf, 0, buf.length, 0))
      .toString("utf8")
      .split("\n");
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The Python that has the `modal` package: the one in the modal script's shebang (pipx, uv tool
 * and virtualenv installs each have their own), else `python3` from PATH.
 */
export function modalPython(env: NodeJS.ProcessEnv): string {
  const script = findExecutable("modal", env);
  if (!script) return "python3";
  const [first = "", second = ""] = firstLines(script);
  if (!first.startsWith("#!")) return "python3";
  const words = first.slice(2).trim().split(/\s+/);
  // `#!/usr/bin/env python3` (or `env -S python3 ...`)
  const cmd = words[0]?.endsWith("/env") ? words.find((w, i) => i > 0 && !w.startsWith("-")) : words[0];
  if (cmd && /(^|\/)python[\d.]*$/.test(cmd)) return cmd;
  // pip's launcher for interpreter paths too long for a shebang: '''exec' "/path/python" "$0" "$@"
  const long = /^'''exec' "([^"]*python[\d.]*)"/.exec(second)?.[1];
  return long ?? "python3";
}

export interface LookupResult {
  url?: string;
  /** Why no URL came back (the last lines of the lookup's output). */
  problem?: string;
}

/** The web URL of `fn` in the deployed app, asked of Modal through its Python client. */
export async function lookupModalWebUrl(
  app: string,
  fn: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<LookupResult> {
  const python = modalPython(env);
  const res = await execa(python, ["-c", LOOKUP, app, fn], {
    env,
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    timeout: 120_000,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  const url = String(res.stdout ?? "")
    .split("\n")
    .map((l) => l.trim())
    .reverse()
    .find((l) => /^https?:\/\/\S+$/.test(l));
  if (res.exitCode === 0 && url) return { url: url.replace(/\/+$/, "") };
  const said = `${res.stderr ?? ""}\n${res.stdout ?? ""}`
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-2)
    .join(" / ");
  return { problem: `${python} could not ask Modal for it${said ? `: ${said}` : ` (${res.message})`}` };
}
