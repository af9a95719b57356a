// The routes a client checks before it sends work (vLLM's models/serving.py and the health
// routes of api_server.py): /health, /ping, /version, /v1/models; and the simulator's own
// /sim/stats.
import type { ServerResponse } from "node:http";
import { hash16 } from "../replies.js";
import { JSON_TYPE, type SimContext } from "./context.js";

export function health(ctx: SimContext, res: ServerResponse): void {
  ctx.send(res, 200, "", null, null);
}

export function version(ctx: SimContext, res: ServerResponse): void {
  ctx.send(res, 200, '{"version":"0.0.0+vbatch.sim"}', null, JSON_TYPE);
}

export function models(ctx: SimContext, res: ServerResponse): void {
  const body = modelsBody(ctx.cfg.model, ctx.cfg.maxModelLen, Math.floor(Date.now() / 1000));
  ctx.send(res, 200, body, null, JSON_TYPE);
}

export function simStats(ctx: SimContext, res: ServerResponse): void {
  ctx.send(res, 200, JSON.stringify(ctx.stats()), null, JSON_TYPE);
}

export function modelsBody(model: string, maxModelLen: number, created: number): string {
  return JSON.stringify({
    object: "list",
    data: [
      {
        id: model,
        object: "model",
        created,
        owned_by: "vllm",
        root: model,
        parent: null,
        max_model_len: maxModelLen,
        permission: [
          {
            id: `modelperm-${hash16(model)}`,
            object: "model_permission",
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: "*",
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  });
}
