// The small state files behind `vbatch up | ps | down`: what one `up` started, under a name, so a
// later `vbatch run --engines <name>` can attach and `vbatch down` can stop it.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { VbatchError } from "../../errors.js";
import type { EngineGroupRecord } from "../types.js";

export interface StateOptions {
  /** Where VBATCH_HOME is looked up. @default process.env */
  env?: NodeJS.ProcessEnv | undefined;
}

/** $VBATCH_HOME, else ~/.vbatch. */
export function vbatchHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.VBATCH_HOME;
  return home !== undefined && home !== "" ? home : join(homedir(), ".vbatch");
}

function enginesDir(o: StateOptions): string {
  return join(vbatchHome(o.env ?? process.env), "engines");
}

/** The lock `vbatch up --name <name>` holds while it starts engines (its folder is created). */
export function engineGroupLockPath(name: string, o: StateOptions = {}): string {
  const dir = enginesDir(o);
  mkdirSync(dir, { recursive: true });
  return join(dir, `${checkEngineGroupName(name)}.lock`);
}

/** Refuses names that would escape the engines folder or be awkward as container names. */
export function checkEngineGroupName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) {
    throw new VbatchError("usage", `--name ${name}: use letters, digits, "_", "." and "-" (under 64)`);
  }
  return name;
}

function isRecord(value: unknown): value is EngineGroupRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Partial<EngineGroupRecord>;
  return (
    r.version === 1 &&
    typeof r.name === "string" &&
    typeof r.kind === "string" &&
    Array.isArray(r.engines) &&
    r.engines.every((e) => typeof e?.url === "string" && typeof e?.name === "string")
  );
}

/** Writes (or replaces) the record atomically: a temp file, then rename. */
export function recordEngines(record: EngineGroupRecord, o: StateOptions = {}): string {
  checkEngineGroupName(record.name);
  const dir = enginesDir(o);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${record.name}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** One record by name; a usage error naming `vbatch ps` when there is none. */
export function readEngines(name: string, o: StateOptions = {}): EngineGroupRecord {
  checkEngineGroupName(name);
  const path = join(enginesDir(o), `${name}.json`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new VbatchError(
      "usage",
      `no engines named "${name}" (vbatch ps lists them; vbatch up starts some)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) throw new VbatchError("io", `${path} is not a vbatch engines file; remove it`);
  return parsed;
}

/** Every record, by name; unreadable files are reported in `problems` rather than thrown. */
export function listEngines(o: StateOptions = {}): { records: EngineGroupRecord[]; problems: string[] } {
  let files: string[];
  try {
    files = readdirSync(enginesDir(o)).filter((f) => f.endsWith(".json"));
  } catch {
    return { records: [], problems: [] };
  }
  const records: EngineGroupRecord[] = [];
  const problems: string[] = [];
  for (const f of files.sort()) {
    try {
      records.push(readEngines(f.slice(0, -".json".length), o));
    } catch (err) {
      problems.push(`${f}: ${(err as Error).message}`);
    }
  }
  return { records, problems };
}

/** Forgets a record (after `vbatch down`); true when there was one. */
export function removeEngines(name: string, o: StateOptions = {}): boolean {
  checkEngineGroupName(name);
  const path = join(enginesDir(o), `${name}.json`);
  try {
    readFileSync(path);
  } catch {
    return false;
  }
  rmSync(path, { force: true });
  return true;
}
