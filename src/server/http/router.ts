// A tiny route table: literal segments and id parameters. A parameter segment must match its id
// pattern exactly (raw, undecoded), so "..", "%2e%2e" or another kind of id never reaches a handler.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerContext } from "../context.js";
import { type IdKind, isId } from "../ids.js";
import { type ApiSurface, HttpError } from "./respond.js";

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: ServerContext;
  /** Validated ids by kind, e.g. params.file. */
  params: Partial<Record<IdKind, string>>;
  query: URLSearchParams;
  api: ApiSurface;
  /** http://host:port of this server as the client reached it (for results_url). */
  baseUrl: string;
}

export type Handler = (r: RouteRequest) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

const NOT_FOUND: Record<IdKind, (id: string) => string> = {
  file: (id) => `No such File object: ${id}`,
  batch: (id) => `No batch found with id '${id}'`,
  msgbatch: (id) => `message batch ${id} not found`,
};

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    this.routes.push({ method, segments: path.split("/").slice(1), handler });
    return this;
  }

  /** The handler and params for a path, or an HttpError (404/405). */
  match(method: string, path: string): { handler: Handler; params: RouteRequest["params"] } {
    const segments = path.split("/").slice(1);
    let methodMismatch = false;
    let badId: { kind: IdKind; value: string } | null = null;
    for (const route of this.routes) {
      if (route.segments.length !== segments.length) continue;
      const params: RouteRequest["params"] = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const want = route.segments[i] as string;
        const got = segments[i] as string;
        if (want.startsWith(":")) {
          const kind = want.slice(1) as IdKind;
          if (isId(kind, got)) params[kind] = got;
          else {
            badId ??= { kind, value: got };
            ok = false;
          }
        } else if (want !== got) ok = false;
      }
      if (!ok) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { handler: route.handler, params };
    }
    if (methodMismatch) throw new HttpError(405, `Method ${method} is not allowed on ${path}`);
    if (badId) {
      // Echo at most a short, printable prefix of what was asked for.
      const shown = badId.value.replace(/[^\w.%-]/g, "").slice(0, 80);
      throw new HttpError(404, NOT_FOUND[badId.kind](shown), { param: "id" });
    }
    throw new HttpError(404, `Invalid URL (${method} ${path})`);
  }
}
