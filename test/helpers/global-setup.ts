// Tests that spawn the CLI run the built dist/, so build it once before any test file runs, the
// way `npm run build` does (tsc, then the bin marked executable). VBATCH_SKIP_BUILD=1 skips it
// when dist/ is known to be fresh.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  if (process.env.VBATCH_SKIP_BUILD === "1") return;
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
    stdio: "inherit",
  });
  execFileSync(process.execPath, ["scripts/mark-bin.mjs"], { stdio: "inherit" });
}
