// What `npm pack` would publish: the license, the bin, the docs the README links to, and the
// sources every source map points at (src/ ships for that, so stack traces map to real files).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { packageProblems } from "../scripts/release-check.mjs";
import { tempDir } from "./helpers/files.js";

const root = join(import.meta.dirname, "..");

/** Paths in the package, as npm lists them (relative, with /). */
let packed: Set<string>;
/** The same files with their modes, as scripts/release.mjs checks them in the real tarball. */
let packedFiles: { path: string; mode: number }[];

beforeAll(() => {
  // --ignore-scripts: the global setup has just built dist/; `prepare` would clean and rebuild it.
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [info] = JSON.parse(out) as { files: { path: string; mode: number }[] }[];
  packedFiles = info?.files ?? [];
  packed = new Set(packedFiles.map((f) => f.path));
});

/** A file in the package, or a directory holding one. */
const ships = (path: string) => packed.has(path) || [...packed].some((f) => f.startsWith(`${path}/`));

/** Relative link targets in a markdown file, resolved against the package root. */
function relativeLinks(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8").replace(/^```[\s\S]*?^```/gm, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].flatMap(([, target = ""]) => {
    if (/^([a-z]+:|#)/i.test(target)) return [];
    return [posix.normalize(posix.join(posix.dirname(file), target.replace(/#.*$/, ""))).replace(/\/$/, "")];
  });
}

describe("the npm package", () => {
  it("holds the license, the bin, the library and every doc", () => {
    const docs = readdirSync(join(root, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`);
    const expected = ["LICENSE", "README.md", "package.json", "dist/cli/bin.js", "dist/index.js", ...docs];
    expect(expected.filter((f) => !packed.has(f))).toEqual([]);
    expect(docs).toContain("docs/cli.md");
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toMatch(
      /Apache License\s+Version 2\.0, January 2004/,
    );
  });

  it("says where its repository, home page and issues are", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg.repository).toEqual({ type: "git", url: "git+https://github.com/vbatch/vbatch.git" });
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/vbatch\/vbatch/);
    expect(pkg.bugs).toEqual({ url: "https://github.com/vbatch/vbatch/issues" });
  });

  it("has no source map pointing at a file it does not ship", () => {
    const maps = [...packed].filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources = [], sourceRoot = "" } = JSON.parse(readFileSync(join(root, map), "utf8")) as {
        sources?: string[];
        sourceRoot?: string;
      };
      for (const source of sources) {
        const path = posix.normalize(posix.join(posix.dirname(map), sourceRoot, source));
        if (!packed.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    // A map whose source is gone is usually stale build output: `npm run prepare` cleans dist/.
    expect(missing).toEqual([]);
  });

  it("ships every file the README and the docs link to (the rest are absolute URLs)", () => {
    const files = ["README.md", ...[...packed].filter((f) => f.startsWith("docs/") && f.endsWith(".md"))];
    const broken = files.flatMap((f) => relativeLinks(f).flatMap((t) => (ships(t) ? [] : [`${f} -> ${t}`])));
    expect(broken).toEqual([]);
    expect(relativeLinks("README.md")).toContain("docs/cli.md");
  });

  it('passes the release check: dist built, bin executable, only what "files" lists, no tests or secrets', () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(packageProblems(packedFiles, pkg)).toEqual([]);
    // The same check refuses what must never ship.
    const bad = [
      ...packedFiles.map((f) => (f.path === "dist/cli/bin.js" ? { ...f, mode: 0o644 } : f)),
      { path: "test/fixtures/transcripts/slurm-cpus-too-many.txt", mode: 0o644 },
      { path: "deploy/k8s/.env", mode: 0o644 },
      { path: "notes.txt", mode: 0o644 },
    ];
    expect(packageProblems(bad, pkg)).toEqual([
      "test/fixtures/transcripts/slurm-cpus-too-many.txt: tests must not be published",
      "test/fixtures/transcripts/slurm-cpus-too-many.txt: test fixtures must not be published",
      'test/fixtures/transcripts/slurm-cpus-too-many.txt: not under package.json "files" (dist, src, docs, deploy, examples)',
      "deploy/k8s/.env: an environment file must not be published",
      'notes.txt: not under package.json "files" (dist, src, docs, deploy, examples)',
      "bin vbatch -> dist/cli/bin.js: not executable (mode 644)",
    ]);
  });

  it("install instructions work before vbatch is on the registry: the tarball of this version, or the image", () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    const docs = [
      "README.md",
      ...readdirSync(join(root, "docs")).map((f) => `docs/${f}`),
      ...["k8s", "slurm", "vllm", "modal"].map((d) => `deploy/${d}/README.md`),
    ].filter((f) => f.endsWith(".md"));
    // Commands in code blocks that fetch vbatch from the registry (404 until it is published).
    const fromRegistry = /\b(npm (i|install)( -g)? vbatch(@\S*)?(\s|$)|npx (--yes )?vbatch@)/;
    const bad = docs.flatMap((f) =>
      [...readFileSync(join(root, f), "utf8").matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].flatMap(
        ([, block = ""]) =>
          block.split("\n").flatMap((l) => (fromRegistry.test(l) ? [`${f}: ${l.trim()}`] : [])),
      ),
    );
    expect(bad).toEqual([]);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain("npm ci && npm pack");
    expect(readme).toContain(`npm i -g ./vbatch-${version}.tgz`);
    // scripts/check-install.sh, which CI runs, is that path.
    const check = readFileSync(join(root, "scripts", "check-install.sh"), "utf8");
    expect(check).toMatch(/npm pack --pack-destination/);
    expect(check).toMatch(/npm i -g --prefix "\$scratch\/prefix" .*"\$tgz"/);
  });
});

describe("the package's types", () => {
  it("compile in a strict project with skipLibCheck off, without the types of our devDependencies", () => {
    // A consumer's node_modules: the built package, its dependencies and @types/node, and nothing
    // else (no @types/better-sqlite3, which is only a devDependency of ours).
    const project = tempDir("vbatch-consumer-");
    const modules = join(project, "node_modules");
    mkdirSync(join(modules, "vbatch"), { recursive: true });
    mkdirSync(join(modules, "@types"));
    cpSync(join(root, "dist"), join(modules, "vbatch", "dist"), {
      recursive: true,
      filter: (f) => !f.endsWith(".js") && !f.endsWith(".map"),
    });
    cpSync(join(root, "package.json"), join(modules, "vbatch", "package.json"));
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: object };
    for (const dep of Object.keys(pkg.dependencies))
      symlinkSync(join(root, "node_modules", dep), join(modules, dep));
    symlinkSync(join(root, "node_modules", "@types", "node"), join(modules, "@types", "node"));
    writeFileSync(join(project, "package.json"), '{"type":"module"}');
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
        },
        files: ["main.ts"],
      }),
    );
    writeFileSync(
      join(project, "main.ts"),
      `import { runBatch, startServer, type RunOptions, type RunSummary, VbatchError } from "vbatch";
const options: RunOptions = { input: "in.jsonl", output: "out.jsonl", endpoints: ["http://127.0.0.1:8000"] };
const summary: Promise<RunSummary> = runBatch(options);
void summary;
void startServer;
void VbatchError;
`,
    );
    const tsc = spawnSync(
      process.execPath,
      [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", project, "--listFiles"],
      { encoding: "utf8" },
    );
    const listed = tsc.stdout.split("\n");
    const errors = listed.filter((l) => /error TS\d+/.test(l));
    expect(errors).toEqual([]);
    expect(tsc.status).toBe(0);
    // The check saw the package's declarations (a test that compiled nothing would pass too).
    expect(listed.some((f) => f.endsWith("node_modules/vbatch/dist/index.d.ts"))).toBe(true);
    expect(listed.some((f) => f.endsWith("node_modules/vbatch/dist/job/run-batch.d.ts"))).toBe(true);
    expect(listed.filter((f) => f.includes("better-sqlite3"))).toEqual([]);
  });
});
