// What dist/ was built from: a hash of the sources, the compiler settings and the compiler's
// version, kept in dist/.build-stamp by scripts/prepare.mjs so a build that would change nothing
// is skipped.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** The stamp of the checkout at `root`. */
export function sourceStamp(root) {
  const hash = createHash("sha256");
  const inputs = [
    ...files(join(root, "src")).sort(),
    join(root, "tsconfig.json"),
    join(root, "tsconfig.build.json"),
    join(root, "scripts", "mark-bin.mjs"),
  ];
  for (const f of inputs) {
    hash.update(relative(root, f)).update("\0").update(readFileSync(f)).update("\0");
  }
  const tsc = join(root, "node_modules", "typescript", "package.json");
  hash.update(existsSync(tsc) ? JSON.parse(readFileSync(tsc, "utf8")).version : "no typescript");
  return hash.digest("hex");
}

/** Where the stamp of the built dist/ is kept. */
export const stampPath = (root) => join(root, "dist", ".build-stamp");
