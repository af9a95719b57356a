// The path every request the engine runs takes (chat, completions, responses, embeddings, score,
// rerank): counted, maybe faulted, parsed and sized by its kind, queued in the engine, answered
// when the engine is done. Lean on purpose: benchmarks push over 10,000 requests a second here.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isPlainObject } from "../../util/object.js";
import { notAnObject, requestFailure } from "../errors.js";
import { hash16 } from "../replies.js";
import { isErrorInfo } from "../requests.js";
import { JSON_TYPE, jsonError, type SimContext, SimRequest } from "./context.js";
import { applyFault } from "./faults.js";
import type { RequestKind } from "./kind.js";

/** Takes one request of `kind` in; `die` ends the server when --exit-after is reached. */
export function generation(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  kind: RequestKind,
  raw: string,
  die: () => void,
): void {
  ctx.received++;
  ctx.lifetimeReceived++;
  if (ctx.keys) {
    const key = hash16(raw);
    ctx.keys.set(key, (ctx.keys.get(key) ?? 0) + 1);
  }
  if (ctx.cfg.exitAfter !== null && ctx.lifetimeReceived >= ctx.cfg.exitAfter) {
    die();
    return;
  }

  const header = req.headers["x-request-id"];
  const requestId = typeof header === "string" && header !== "" ? header : ctx.nextId();
  if (applyFault(ctx, req, res, requestId)) return;

  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    ctx.fail(res, jsonError(err, raw), requestId);
    return;
  }
  if (!isPlainObject(body)) {
    ctx.fail(res, notAnObject(), requestId);
    return;
  }
  const work = kind.work(ctx.cfg, body, raw);
  if (isErrorInfo(work)) {
    ctx.fail(res, work, requestId);
    return;
  }
  // Test hook: a valid body with "sim_fail": 500 or 501 fails as that row would in a real engine.
  if (body.sim_fail === 500 || body.sim_fail === 501) {
    ctx.fail(res, requestFailure(body.sim_fail), requestId);
    return;
  }
  const job = new SimRequest(res, kind, requestId, work);
  ctx.engine.submit(job);
  if (!job.finished) {
    res.once("close", () => {
      if (job.finished) return;
      ctx.engine.cancel(job);
      ctx.success.abort++;
      ctx.count("abort");
    });
  }
}

/** The engine finished `job`: its answer, unless the client went away first. */
export function finish(ctx: SimContext, job: SimRequest): void {
  const res = job.res;
  if (res.destroyed) {
    ctx.success.abort++;
    ctx.count("abort");
    return;
  }
  const work = job.work;
  ctx.promptTokensTotal += work.promptTokens;
  ctx.generationTokensTotal += work.completionTokens;
  ctx.success[work.finishReason]++;
  const body = job.kind.reply(ctx.cfg, job.id, work, Math.floor(Date.now() / 1000));
  ctx.completed++;
  ctx.count("200");
  ctx.send(res, 200, body, job.id, JSON_TYPE);
}
