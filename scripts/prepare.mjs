// npm's `prepare`: build dist/ from src/, unless dist/ was already built from exactly these
// sources. npm runs `prepare` on `npm ci` in a clone, and again when the first `npx vbatch` in the
// clone installs the package into npx's cache to link its bin (npm 11 libnpmexec lib/index.js: a
// command that is the local package's own bin is installed from the local directory, and a
// directory install runs `prepare`). A clean build there cost about ten seconds of tsc for
// nothing, on the user's first command.
import { execSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sourceStamp, stampPath } from "./build-stamp.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const stamp = sourceStamp(root);
const built = existsSync(stampPath(root)) ? readFileSync(stampPath(root), "utf8").trim() : "";
if (built === stamp && existsSync(join(root, "dist", "cli", "bin.js"))) {
  process.stderr.write("vbatch: dist/ is already built from these sources (npm run build rebuilds it)\n");
} else {
  execSync("npm run clean && npm run build", { cwd: root, stdio: "inherit" });
  writeFileSync(stampPath(root), `${stamp}\n`);
}
