// What a vbatch tarball must and must not hold before it is published, as one function over the
// file list (path and mode, as `npm pack --json` and `tar -tv` give them), so scripts/release.mjs
// checks the real tarball and test/package.test.ts the dry run with the same rules.

/** Files npm puts in every package whatever `files` says (npm-packlist). */
const ALWAYS = [/^package\.json$/, /^README(\.[^/]*)?$/i, /^LICEN[CS]E(\.[^/]*)?$/i];

/** Never in a package: tests and their fixtures, local state, credentials, nested packages. */
const NEVER = [
  [/^test\//, "tests"],
  [/(^|\/)fixtures\//, "test fixtures"],
  [/^bench\/out\//, "benchmark output"],
  [/(^|\/)node_modules\//, "node_modules"],
  [/(^|\/)\.env(\.|$)/, "an environment file"],
  [/(^|\/)\.npmrc$/, "an .npmrc (registry tokens)"],
  [/\.(pem|key|p12)$/, "a key or certificate"],
  [/(^|\/)id_(rsa|ed25519|ecdsa)/, "an SSH key"],
  [/\.vbatch\.db(-wal|-shm)?$/, "a job journal"],
  [/\.tgz$/, "a packed tarball"],
];

/**
 * Problems with a package's file list, empty when it may be published.
 * @param {{path: string, mode: number}[]} files
 * @param {{files?: string[], bin?: Record<string, string>, main?: string, types?: string}} pkg
 * @returns {string[]}
 */
export function packageProblems(files, pkg) {
  const problems = [];
  const paths = new Set(files.map((f) => f.path));
  const allowed = (pkg.files ?? []).map((f) => f.replace(/\/$/, ""));
  for (const f of files) {
    for (const [re, what] of NEVER)
      if (re.test(f.path)) problems.push(`${f.path}: ${what} must not be published`);
    const listed = allowed.some((a) => f.path === a || f.path.startsWith(`${a}/`));
    if (!listed && !ALWAYS.some((re) => re.test(f.path))) {
      problems.push(`${f.path}: not under package.json "files" (${allowed.join(", ")})`);
    }
  }
  for (const [name, bin] of Object.entries(pkg.bin ?? {})) {
    const path = bin.replace(/^\.\//, "");
    const file = files.find((f) => f.path === path);
    if (!file) problems.push(`bin ${name} -> ${path}: missing (was dist/ built?)`);
    else if ((file.mode & 0o111) !== 0o111)
      problems.push(`bin ${name} -> ${path}: not executable (mode ${file.mode.toString(8)})`);
  }
  for (const entry of [pkg.main, pkg.types]) {
    if (entry && !paths.has(entry.replace(/^\.\//, "")))
      problems.push(`${entry}: named by package.json, missing`);
  }
  if (![...paths].some((p) => p.startsWith("dist/")))
    problems.push("dist/: missing (was the package built?)");
  return problems;
}
