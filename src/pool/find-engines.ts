// The "find engines" step of a job: wait for one to answer, then check that they serve what the
// input asks for. Nothing is written here, so a refusal leaves the job's files as they were.
import type { Logger } from "pino";
import type { ModelUse } from "../job/ingest.js";
import { discoverEngines } from "./discover.js";
import type { Engine } from "./engine.js";
import { defaultModel } from "./engines.js";
import { checkModels } from "./model-check.js";
import { checkPriority } from "./priority-check.js";

/** The engines a run sends to, and the model for rows that name none. */
export interface ReadyEngines {
  pool: Engine[];
  model: string | undefined;
}

export interface FindEnginesOptions {
  engines: Engine[];
  waitMs: number;
  signal?: AbortSignal | undefined;
  onWaiting: (ms: number, reason: string | null) => void;
  /** Sets an engine's in-flight limit once it is known. */
  setLimit: (e: Engine) => void;
  /** --priority: checked once against each engine before any row is sent. */
  priority?: number | undefined;
  /** --model, for rows without body.model. */
  model: string | undefined;
  rowsWithoutModel: number;
  models: Map<string, ModelUse> | null;
  modelMap: ReadonlyMap<string, string>;
  logger?: Logger | undefined;
}

/** The engines, once one answers and they serve the input's models; undefined when stopped first. */
export async function findEngines(o: FindEnginesOptions): Promise<ReadyEngines | undefined> {
  const found = await discoverEngines(o.engines, {
    waitMs: o.waitMs,
    signal: o.signal,
    onWaiting: o.onWaiting,
    logger: o.logger,
  });
  if (found !== "ready") return undefined;
  const pool = o.engines;
  for (const e of pool) o.setLimit(e);
  const up = pool.filter((e) => e.health.up);
  const model = defaultModel(up, o.model, o.rowsWithoutModel);
  checkModels(
    o.models,
    o.rowsWithoutModel,
    new Set(up.flatMap((e) => e.models.map((m) => m.id))),
    o.modelMap,
    o.logger,
  );
  await checkPriority(up, o.priority);
  return { pool, model };
}
