// Which model a row goes to and how long its context is: the row's body.model, else --model, else
// the engine's only model; the length from --max-model-len, else the engine's /v1/models.
import type { ServedModel } from "./engine-client.js";

export type Target =
  | { ok: true; model: string | undefined; maxModelLen: number | null }
  | { ok: false; message: string };

export class ModelTargets {
  constructor(
    /** What the engine serves, or null without an engine. */
    private readonly served: ServedModel[] | null,
    private readonly defaultModel: string | undefined,
    private readonly maxModelLen: number | undefined,
    private readonly endpoint: string | undefined,
  ) {}

  resolve(body: Record<string, unknown>): Target {
    const served = this.served;
    const fallback = this.defaultModel ?? (served?.length === 1 ? served[0]?.id : undefined);
    const model = typeof body.model === "string" ? body.model : fallback;
    if (served === null) return { ok: true, model, maxModelLen: this.maxModelLen ?? null };
    const ids = served.map((m) => m.id).join(", ") || "none";
    if (model === undefined) {
      return {
        ok: false,
        message: `no body.model, and ${this.endpoint} serves several models (${ids}): pass --model`,
      };
    }
    const info = served.find((m) => m.id === model);
    if (!info)
      return {
        ok: false,
        message: `model ${JSON.stringify(model)} is not served by ${this.endpoint} (it serves ${ids})`,
      };
    return { ok: true, model, maxModelLen: this.maxModelLen ?? info.maxModelLen };
  }
}
