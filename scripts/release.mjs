#!/usr/bin/env node
// The release checklist as a script (docs/releasing.md): build from clean, pack, check the tarball
// itself (dist present, bin executable, only what package.json "files" lists, no tests, fixtures
// or secrets), then print the commands that publish it. It publishes nothing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageProblems } from "./release-check.mjs";

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], ...opts });

const dirty = run("git", ["status", "--porcelain"]).trim();
if (dirty && !process.argv.includes("--allow-dirty")) {
  console.error(`release: the checkout has uncommitted changes (--allow-dirty to pack anyway):\n${dirty}`);
  process.exit(2);
}

// `npm pack` runs `prepare` (clean, then build) before packing, so dist/ is fresh.
const out = mkdtempSync(join(tmpdir(), "vbatch-release-"));
run("npm", ["pack", "--pack-destination", out, "--json"]);
const tgz = join(out, `${pkg.name}-${pkg.version}.tgz`);

// The tarball as tar sees it: "-rwxr-xr-x 0/0 346 1985-10-26 08:15 package/dist/cli/bin.js".
const files = run("tar", ["-tvzf", tgz])
  .split("\n")
  .filter((l) => l.startsWith("-"))
  .map((l) => {
    const [perm = "", , , , , ...rest] = l.split(/\s+/);
    const mode = [...perm.slice(1)].reduce((m, c, i) => (c === "-" ? m : m | (1 << (8 - i))), 0);
    return { path: rest.join(" ").replace(/^package\//, ""), mode };
  });
const inner = JSON.parse(run("tar", ["-xOzf", tgz, "package/package.json"]));
const problems = packageProblems(files, pkg);
if (inner.version !== pkg.version)
  problems.push(`the tarball's package.json says ${inner.version}, not ${pkg.version}`);

if (problems.length > 0) {
  console.error(`release: ${tgz} must not be published:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`release: ${tgz}: ${files.length} files, dist/ built, bin executable, nothing outside "files"`);
console.log("release: to publish (see docs/releasing.md):");
console.log(`  npm publish ${tgz} --access public`);
console.log(`  git tag v${pkg.version} && git push origin v${pkg.version}`);
console.log(
  `  docker build -t ghcr.io/vbatch/vbatch:${pkg.version} . && docker push ghcr.io/vbatch/vbatch:${pkg.version}`,
);
