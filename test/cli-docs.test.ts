// docs/cli.md and the README's command table checked against the live commander tree, so a
// command, flag or argument added in code fails here until it is documented, and a stale one too.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Argument, Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../src/cli/main.js";

const root = join(import.meta.dirname, "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");

interface CommandInfo {
  /** "run", or "a b" for subcommand b of a. */
  path: string;
  flags: string[];
  /** As --help shows them: <input>, [name], <outputs...>. */
  args: string[];
}

function argText(a: Argument): string {
  const name = `${a.name()}${a.variadic ? "..." : ""}`;
  return a.required ? `<${name}>` : `[${name}]`;
}

function longFlags(cmd: Command): string[] {
  return cmd.options.flatMap((o) => (o.hidden || !o.long ? [] : [o.long]));
}

function walk(cmd: Command, prefix: string[] = []): CommandInfo[] {
  return cmd.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    const info = { path: path.join(" "), flags: longFlags(sub), args: sub.registeredArguments.map(argText) };
    return [info, ...walk(sub, path)];
  });
}

interface Section {
  slug: string;
  /** The command a "## `vbatch <command>`" heading names. */
  command?: string;
  body: string;
}

/** GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function parseSections(md: string): { intro: string; sections: Section[] } {
  const [intro = "", ...parts] = md.split(/^## /m);
  const sections = parts.map((part) => {
    const heading = part.slice(0, part.indexOf("\n")).trim();
    const bare = heading.replace(/`/g, "");
    const command = /^vbatch ([a-z][a-z-]*(?: [a-z][a-z-]*)*)$/.exec(bare)?.[1];
    return { slug: slug(bare), command, body: part };
  });
  return { intro, sections };
}

/** The flags heading a row of a table: the first cell of each row. */
function tableFlags(body: string): string[] {
  const flags: string[] = [];
  for (const line of body.split("\n")) {
    if (!line.startsWith("|")) continue;
    const first = line.split(/(?<!\\)\|/)[1] ?? "";
    flags.push(...(first.match(/(?<![\w-])--[a-z0-9][a-z0-9-]*/g) ?? []));
  }
  return flags;
}

/** A section and every section of the same file it links to (#anchor), and so on. */
function reachable(start: Section, bySlug: Map<string, Section>): Section[] {
  const seen = new Set<Section>([start]);
  const queue = [start];
  for (let s = queue.shift(); s; s = queue.shift()) {
    for (const [, anchor] of s.body.matchAll(/\]\(#([^)\s]+)\)/g)) {
      const next = bySlug.get(anchor ?? "");
      if (next && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return [...seen];
}

const program = buildProgram({ exitCode: 0 });
const commands = walk(program);

describe("docs/cli.md", () => {
  const { intro, sections } = parseSections(read("docs/cli.md"));
  const bySlug = new Map(sections.map((s) => [s.slug, s]));
  const byCommand = new Map(sections.flatMap((s) => (s.command ? [[s.command, s] as const] : [])));

  it("walks a real command tree (the test would pass on an empty one)", () => {
    expect(commands.map((c) => c.path)).toEqual(expect.arrayContaining(["run", "retry", "serve", "up"]));
    expect(commands.find((c) => c.path === "run")?.flags).toContain("--output");
  });

  it("has a section for every command, and none for a command that does not exist", () => {
    const problems: string[] = [];
    for (const c of commands) {
      if (!byCommand.has(c.path)) problems.push(`vbatch ${c.path}: no "## \`vbatch ${c.path}\`" section`);
    }
    const known = new Set(commands.map((c) => c.path));
    for (const name of byCommand.keys()) {
      if (!known.has(name)) problems.push(`a section documents vbatch ${name}, which is no command`);
    }
    expect(problems).toEqual([]);
  });

  it("documents every flag and argument of every command in a flag table of its section", () => {
    const problems: string[] = [];
    for (const c of commands) {
      const own = byCommand.get(c.path);
      if (!own) continue; // reported above
      const documented = new Set(reachable(own, bySlug).flatMap((s) => tableFlags(s.body)));
      for (const flag of c.flags) {
        if (!documented.has(flag)) problems.push(`vbatch ${c.path} ${flag}: not in docs/cli.md`);
      }
      for (const arg of c.args) {
        if (!own.body.includes(arg)) problems.push(`vbatch ${c.path} ${arg}: argument not in its section`);
      }
    }
    for (const flag of longFlags(program)) {
      if (!intro.includes(flag)) problems.push(`vbatch ${flag}: not in the introduction of docs/cli.md`);
    }
    expect(problems).toEqual([]);
  });

  it("documents no flag a command does not have", () => {
    const problems: string[] = [];
    // A shared table (such as the launch flags) needs its flags on some command that links to it.
    const reachers = new Map<Section, CommandInfo[]>();
    for (const c of commands) {
      const own = byCommand.get(c.path);
      if (!own) continue;
      for (const flag of tableFlags(own.body)) {
        if (!c.flags.includes(flag))
          problems.push(`vbatch ${c.path}: documents ${flag}, which it does not take`);
      }
      for (const s of reachable(own, bySlug)) reachers.set(s, [...(reachers.get(s) ?? []), c]);
    }
    for (const s of sections) {
      if (s.command) continue;
      const users = reachers.get(s) ?? [];
      for (const flag of tableFlags(s.body)) {
        if (!users.some((c) => c.flags.includes(flag))) {
          problems.push(`#${s.slug}: documents ${flag}, which no command linking to it takes`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("README.md", () => {
  const readme = read("README.md");

  it("lists every command in its command table, and no other", () => {
    const table = readme.split(/^## Commands$/m)[1]?.split(/^## /m)[0] ?? "";
    const listed = new Set<string>();
    for (const line of table.split("\n")) {
      const first = line.startsWith("|") ? (line.split(/(?<!\\)\|/)[1] ?? "") : "";
      for (const [, name] of first.matchAll(/`vbatch ([a-z][a-z-]*)/g)) listed.add(name ?? "");
    }
    expect([...listed].sort()).toEqual(program.commands.map((c) => c.name()).sort());
  });

  it("quotes the Node range package.json's engines allows", () => {
    const range = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    expect(readme).toContain(`\`${range}\``);
  });
});
