// POST /tokenize: the prompt's (or the chat's templated) token ids, as vLLM's TokenizeResponse
// {count, max_model_len, tokens, token_strs}; answered by the server itself, not the engine.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isPlainObject } from "../../util/object.js";
import { fieldMissing, notAnObject } from "../errors.js";
import { checkModel } from "../requests.js";
import { chatTokenIds, templateOptions, textTokenIds } from "../tokens.js";
import { JSON_TYPE, jsonError, type SimContext } from "./context.js";

export function tokenizeBody(tokens: number[], maxModelLen: number): string {
  return JSON.stringify({ count: tokens.length, max_model_len: maxModelLen, tokens, token_strs: null });
}

export function tokenize(ctx: SimContext, req: IncomingMessage, res: ServerResponse, raw: string): void {
  const header = req.headers["x-request-id"];
  const requestId = typeof header === "string" && header !== "" ? header : null;
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    ctx.error(res, jsonError(err, raw), requestId);
    return;
  }
  if (!isPlainObject(body)) {
    ctx.error(res, notAnObject(), requestId);
    return;
  }
  let tokens: number[];
  if (Array.isArray(body.messages)) tokens = chatTokenIds(body.messages, templateOptions(body));
  else if (typeof body.prompt === "string") tokens = textTokenIds(body.prompt);
  else {
    ctx.error(res, fieldMissing(body.messages === undefined ? "prompt" : "messages"), requestId);
    return;
  }
  const modelError = checkModel(ctx.cfg, body);
  if (modelError) {
    ctx.error(res, modelError, requestId);
    return;
  }
  ctx.send(res, 200, tokenizeBody(tokens, ctx.cfg.maxModelLen), requestId, JSON_TYPE);
}
