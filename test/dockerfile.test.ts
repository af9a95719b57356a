// The Dockerfile matches the package it builds: pinned Debian 12 Node.js images for both stages,
// sources that exist and that .dockerignore lets through, the package's own build script, an
// entrypoint that is the package's bin, and an unprivileged user. There is no Docker daemon here:
// test/dockerfile-steps.test.ts replays the build steps for real (run by .ci/run).
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";
import { execForm, last, parseCopy, readDockerfile } from "./helpers/dockerfile.js";

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const stages = readDockerfile(root);
const build = stages.find((s) => s.name === "build");
const runtime = stages.at(-1);
const runs = (stage: typeof build) => stage?.steps.filter((s) => s.op === "RUN").map((s) => s.args) ?? [];
const copies = (stage: typeof build) =>
  stage?.steps.filter((s) => s.op === "COPY").map((s) => parseCopy(s.args)) ?? [];

/** .dockerignore patterns as regular expressions over context-relative paths. */
const ignored = readFileSync(join(root, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"))
  .map((p) => {
    const body = p
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*\*\//g, "(?:.*/)?")
      .replace(/\*/g, "[^/]*");
    return new RegExp(`^${body}(?:/.*)?$`);
  });

describe("Dockerfile", () => {
  it("has a build stage and a runtime stage on one pinned Node.js 20 bookworm-slim image", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", undefined]);
    const images = new Set(stages.map((s) => s.image));
    expect(images.size).toBe(1); // one libc for the native addon built in one stage, run in the other
    const [image = ""] = [...images];
    const m = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(image);
    expect(m, image).not.toBeNull();
    const [major, minor, patch] = (m as RegExpExecArray).slice(1).map(Number) as [number, number, number];
    expect(major).toBe(20);
    const [, emaj, emin, epat] = (/>=(\d+)\.(\d+)\.(\d+)/.exec(pkg.engines.node) ?? []).map(Number);
    expect(major * 1e6 + minor * 1e3 + patch).toBeGreaterThanOrEqual(
      (emaj as number) * 1e6 + (emin as number) * 1e3 + (epat as number),
    );
  });

  it("copies only files that exist and that .dockerignore lets into the build context", () => {
    const sources = stages.flatMap((s) => copies(s).filter((c) => !c.from)).flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(join(root, src)), src).toBe(true);
      expect(
        ignored.filter((re) => re.test(posix.normalize(src))),
        src,
      ).toEqual([]);
    }
    for (const secret of [".git", "node_modules", ".env", ".npmrc", "test"]) {
      expect(
        ignored.some((re) => re.test(secret)),
        secret,
      ).toBe(true);
    }
  });

  it("builds with the package's own scripts and keeps production dependencies only", () => {
    const cmds = runs(build);
    const at = (re: RegExp) => cmds.findIndex((c) => re.test(c));
    expect(at(/^npm ci\b/)).toBeGreaterThanOrEqual(0);
    expect(at(/^npm rebuild better-sqlite3$/)).toBeGreaterThan(at(/^npm ci\b/));
    expect(at(/^npm run build$/)).toBeGreaterThan(at(/^npm rebuild/));
    expect(at(/^npm prune --omit=dev$/)).toBeGreaterThan(at(/^npm run build$/));
    // Every file the build script names is copied in before it runs.
    // Where each copied path lands, relative to WORKDIR: into a directory (dest ending in /) by
    // its base name, else as dest itself.
    const copied = copies(build).flatMap((c) =>
      c.sources.map((s) =>
        posix.normalize(c.dest.endsWith("/") ? posix.join(c.dest, posix.basename(s)) : c.dest),
      ),
    );
    const named = (pkg.scripts.build as string).split(/\s+/).filter((w) => existsSync(join(root, w)));
    expect(named.length).toBeGreaterThan(0);
    for (const file of named) {
      expect(
        copied.some((c) => c === file || file.startsWith(`${c}/`)),
        file,
      ).toBe(true);
    }
    // tsconfig.build.json extends tsconfig.json: both must be there.
    expect(copied).toContain("tsconfig.json");
    // The native addon is built where compilers are; the runtime image has none.
    expect(cmds.some((c) => /apt-get install .*python3.*make.*g\+\+/.test(c))).toBe(true);
    expect(runs(runtime)).toEqual([]);
  });

  it("runs the package's bin as its entrypoint, as an unprivileged user", () => {
    const stage = runtime as NonNullable<typeof runtime>;
    const [cmd] = execForm(last(stage, "ENTRYPOINT") ?? "[]");
    expect(cmd).toBe(Object.keys(pkg.bin)[0]);
    // Found on the image's PATH through bin/vbatch, a link to the package's bin.
    const workdir = stage.steps.find((s) => s.op === "WORKDIR")?.args as string;
    const path = /^PATH=(\S+)$/.exec(last(stage, "ENV") ?? "")?.[1] ?? "";
    expect(path.split(":")).toContain(`${workdir}/bin`);
    const linkCmd = runs(build).find((c) => c.includes("ln -s")) ?? "";
    const [, target, link] = /ln -s (\S+) (\S+)$/.exec(linkCmd) ?? [];
    expect(link).toBe(`bin/${cmd}`);
    expect(posix.normalize(posix.join("bin", target as string))).toBe(pkg.bin[cmd as string]);
    const fromBuild = copies(stage).filter((c) => c.from === "build");
    for (const dir of ["/app/dist", "/app/node_modules", "/app/bin", "/app/package.json"]) {
      expect(fromBuild.flatMap((c) => c.sources)).toContain(dir);
    }
    const user = last(stage, "USER");
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    // The bin the link points at is the one npm publishes.
    const bin = join(root, pkg.bin[cmd as string] as string);
    expect(lstatSync(bin).isFile()).toBe(true);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node")).toBe(true);
    expect(() => readlinkSync(bin)).toThrow();
  });
});
