// The Dockerfile read as its stages and instructions, so tests can check it against package.json
// and replay its steps without a Docker daemon. Only what our Dockerfile uses: line continuations,
// comments, FROM ... AS, and JSON-form ENTRYPOINT/CMD.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface Instruction {
  op: string;
  /** The rest of the line, continuations joined. */
  args: string;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  steps: Instruction[];
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] as string;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${(lines[++i] as string).trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile:${start + 1}: not an instruction: ${line}`);
    const op = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (op === "FROM") {
      const [image = "", as, name] = args.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === "AS" ? name : undefined, steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile:${start + 1}: ${op} before FROM`);
    stage.steps.push({ op, args, line: start + 1 });
  }
  return stages;
}

export function readDockerfile(root: string): Stage[] {
  return parseDockerfile(readFileSync(join(root, "Dockerfile"), "utf8"));
}

export function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift() as string;
    const m = /^--from=(.+)$/.exec(flag);
    if (m) from = m[1];
    else throw new Error(`COPY flag not understood here: ${flag}`);
  }
  const dest = words.pop();
  if (!dest || words.length === 0) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { from, sources: words, dest };
}

/** An exec-form (JSON array) ENTRYPOINT or CMD. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return parsed;
}

/** The last value of an instruction in a stage (WORKDIR, USER, ENTRYPOINT...), or undefined. */
export function last(stage: Stage, op: string): string | undefined {
  return stage.steps.filter((s) => s.op === op).at(-1)?.args;
}
