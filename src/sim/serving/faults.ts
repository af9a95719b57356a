// Fault injection: the plan (sim/faults.ts) decides per request whether it is dropped, answered
// 500 or answered 429 with Retry-After; POST /sim/faults changes the plan while the server runs.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isPlainObject } from "../../util/object.js";
import { internalError, rateLimited } from "../errors.js";
import type { SimFaults } from "../types.js";
import { JSON_TYPE, type SimContext } from "./context.js";

/** Applies this request's fault, if the plan gives it one; true when it was answered (or dropped). */
export function applyFault(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): boolean {
  const fault = ctx.faults.decide();
  if (fault === "none") return false;
  if (fault === "drop") {
    ctx.count("drop");
    req.socket.destroy();
  } else if (fault === "error") {
    ctx.fail(res, internalError(), requestId);
  } else {
    const seconds = ctx.faults.retryAfterSeconds;
    ctx.fail(res, rateLimited(), requestId, {
      "retry-after": String(seconds),
      "retry-after-ms": String(Math.round(seconds * 1000)),
    });
  }
  return true;
}

/** POST /sim/faults: the new plan, answered with the plan now in force. */
export function setFaults(ctx: SimContext, res: ServerResponse, raw: string): void {
  try {
    const body: unknown = JSON.parse(raw);
    if (!isPlainObject(body)) throw new TypeError("faults must be a JSON object");
    ctx.faults.set(body as SimFaults);
    ctx.send(res, 200, JSON.stringify(ctx.faults.current), null, JSON_TYPE);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.send(res, 400, JSON.stringify({ error: { message } }), null, JSON_TYPE);
  }
}
