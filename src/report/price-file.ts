// `--prices file.json`: the user's own prices, merged over the dated table (a row with the same
// GPU or model name replaces it). Every field is checked; a bad one is refused naming the file and
// the field, never dropped.
import { readFileSync } from "node:fs";
import { VbatchError } from "../errors.js";
import { DEFAULT_PRICES, type GpuPrice, type ModelPrice, type PriceTable } from "./price-table.js";

function bad(path: string, where: string, why: string): VbatchError {
  return new VbatchError("usage", `--prices ${path}: ${where}: ${why}`);
}

function num(path: string, where: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw bad(path, where, "must be a number >= 0");
  return v;
}

function str(path: string, where: string, v: unknown, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "string" || v.length === 0) throw bad(path, where, "must be a non-empty string");
  return v;
}

function obj(path: string, where: string, v: unknown): Record<string, unknown> {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw bad(path, where, "must be an object");
  return v as Record<string, unknown>;
}

const KEYS = new Set(["gpus", "models"]);

export function loadPriceFile(path: string, base: PriceTable = DEFAULT_PRICES): PriceTable {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new VbatchError("usage", `--prices ${path}: ${(err as Error).message}`, { cause: err });
  }
  const top = obj(path, "the file", parsed);
  for (const k of Object.keys(top)) if (!KEYS.has(k)) throw bad(path, k, "unknown key (gpus, models)");
  const from = `${path}`;
  const gpus = [...base.gpus];
  const models = [...base.models];
  const list = (key: string) => {
    const v = top[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw bad(path, key, "must be an array");
    return v;
  };
  list("gpus").forEach((raw, i) => {
    const w = `gpus[${i}]`;
    const g = obj(path, w, raw);
    const row: GpuPrice = {
      name: str(path, `${w}.name`, g.name),
      perHour: num(path, `${w}.perHour`, g.perHour),
      source: str(path, `${w}.source`, g.source, from),
      asOf: str(path, `${w}.asOf`, g.asOf, "as given"),
    };
    const at = gpus.findIndex((x) => x.name.toLowerCase() === row.name.toLowerCase());
    if (at >= 0) gpus[at] = row;
    else gpus.push(row);
  });
  list("models").forEach((raw, i) => {
    const w = `models[${i}]`;
    const m = obj(path, w, raw);
    const tier = (t: string) => {
      const p = obj(path, `${w}.${t}`, m[t]);
      return {
        input: num(path, `${w}.${t}.input`, p.input),
        output: num(path, `${w}.${t}.output`, p.output),
      };
    };
    const row: ModelPrice = {
      provider: str(path, `${w}.provider`, m.provider),
      model: str(path, `${w}.model`, m.model),
      batch: tier("batch"),
      realtime: tier("realtime"),
      source: str(path, `${w}.source`, m.source, from),
      asOf: str(path, `${w}.asOf`, m.asOf, "as given"),
    };
    const at = models.findIndex((x) => x.model === row.model);
    if (at >= 0) models[at] = row;
    else models.push(row);
  });
  return { gpus, models };
}
