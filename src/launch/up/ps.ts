// `vbatch ps`: for each recorded engine, whether it answers, what it serves and how loaded it is
// (vLLM's running/waiting gauges from /metrics).
import { engineProblem } from "../../client/engine-problem.js";
import { parseVllmLoad } from "../../schedule/prometheus.js";
import type { EngineGroupRecord } from "../types.js";

export interface EngineStatus {
  group: string;
  kind: EngineGroupRecord["kind"];
  name: string;
  url: string;
  gpus: string[];
  /** "up" (200 on /health), "down" (no answer or an error status), or "not probed". */
  health: "up" | "down" | "not probed";
  /** Why it is down or not probed. */
  problem?: string | undefined;
  models: string[];
  running: number | null;
  waiting: number | null;
  kvCacheUsage: number | null;
}

export interface EngineStatusOptions {
  /** Per-request limit. @default 3000 */
  timeoutMs?: number;
  /** Probe Modal apps too; a probe wakes a scaled-to-zero app (a cold start you pay for). @default false */
  wakeModal?: boolean;
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text() };
}

function modelIds(text: string): string[] {
  try {
    const json = JSON.parse(text) as { data?: { id?: unknown }[] };
    return (json.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string");
  } catch {
    return [];
  }
}

async function probe(
  group: EngineGroupRecord,
  e: EngineGroupRecord["engines"][number],
  o: EngineStatusOptions,
) {
  const timeoutMs = o.timeoutMs ?? 3000;
  const status: EngineStatus = {
    group: group.name,
    kind: group.kind,
    name: e.name,
    url: e.url,
    gpus: e.gpus,
    health: "down",
    models: [],
    running: null,
    waiting: null,
    kvCacheUsage: null,
  };
  if (group.kind === "modal" && !o.wakeModal) {
    return { ...status, health: "not probed" as const, problem: "a probe would wake the Modal app" };
  }
  try {
    const health = await get(`${e.url}/health`, timeoutMs);
    if (health.status !== 200) return { ...status, problem: `/health answered ${health.status}` };
    status.health = "up";
    const models = await get(`${e.url}/v1/models`, timeoutMs);
    if (models.status === 200) status.models = modelIds(models.text);
    const metrics = await get(`${e.url}/metrics`, timeoutMs).catch(() => undefined);
    const load = metrics?.status === 200 ? parseVllmLoad(metrics.text) : null;
    if (load) {
      status.running = load.running;
      status.waiting = load.waiting;
      status.kvCacheUsage = load.kvCacheUsage;
    }
    return status;
  } catch (err) {
    // Said as a run says it: "refuses connections", "the host name ... does not resolve".
    return { ...status, problem: engineProblem(e.url, err).reason };
  }
}

/** Probes every engine of every record, in parallel. */
export async function engineStatus(
  records: EngineGroupRecord[],
  options: EngineStatusOptions = {},
): Promise<EngineStatus[]> {
  return Promise.all(records.flatMap((g) => g.engines.map((e) => probe(g, e, options))));
}
