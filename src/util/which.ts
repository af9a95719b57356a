// Finds an executable the way a shell would, so a missing vllm, docker or modal CLI is a clear
// message naming the flag or the install step, not a spawn ENOENT halfway through a launch.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The full path of `name` (a bare name searched on env.PATH, or a path), or undefined. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name.includes("/")) return executable(name) ? name : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}
