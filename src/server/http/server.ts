// The HTTP front: auth, routing, and turning every failure into the right API's error shape.
// Logs carry method, path and status only: never headers, so keys cannot leak into logs.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { urlHost } from "../../util/url-host.js";
import type { ServerContext } from "../context.js";
import { newRequestId } from "../ids.js";
import { redirect } from "../pages/respond-page.js";
import { type ApiSurface, errorBody, HttpError, sendJson } from "./respond.js";
import type { Router } from "./router.js";

function surfaceOf(path: string): ApiSurface {
  return path.startsWith("/v1/messages") ? "anthropic" : "openai";
}

/** Max bytes of a refused request body read and thrown away so the client sees the answer. */
const DISCARD_BYTES = 256 * 1024 * 1024;

/**
 * A refused request (an upload over the limit, a bad key) may still be sending its body. Closing
 * the socket now would make the client see a reset instead of our answer, so the rest is read and
 * discarded (up to a cap, then the connection is cut).
 */
function discardBody(req: IncomingMessage): void {
  let seen = 0;
  req.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_BYTES) req.destroy();
  });
  req.resume();
}

/** Pages a browser reaches without a session: the login form, and leaving. */
const OPEN_PAGES = new Set(["/login", "/logout"]);

/** Paths that answer with a page, not an API's JSON: a refused one sends the browser to log in. */
function isPage(path: string): boolean {
  return path === "/" || path.startsWith("/batches/");
}

/**
 * True when the request may go on: a valid key, an open page, or a browser's session that only
 * reads (pages and GET routes, nothing that changes). False for a page a browser must log in to
 * first; an API request without a valid key is refused with its API's 401.
 */
function admitted(ctx: ServerContext, req: IncomingMessage, path: string): boolean {
  const auth = ctx.keys.check(req.headers);
  if (auth === "ok" || OPEN_PAGES.has(path)) return true;
  const reading = req.method === "GET" || req.method === "HEAD";
  if (reading && ctx.sessions.valid(req.headers)) return true;
  if (isPage(path)) return false;
  throw new HttpError(
    401,
    auth === "missing"
      ? "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
      : "Incorrect API key provided.",
    { code: "invalid_api_key" },
  );
}

export function createApiServer(ctx: ServerContext, router: Router): Server {
  const ownHost = urlHost(ctx.options.host);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = (q < 0 ? raw : raw.slice(0, q)).replace(/\/+$/, "") || "/";
    const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
    const api = surfaceOf(path);
    const requestId = newRequestId();
    res.setHeader(api === "anthropic" ? "request-id" : "x-request-id", requestId);
    try {
      if (path === "/health" && req.method === "GET") {
        sendJson(res, 200, { status: "ok" });
        return;
      }
      if (!admitted(ctx, req, path)) {
        redirect(res, "/login");
        return;
      }
      const { handler, params } = router.match(req.method ?? "GET", path);
      const host = typeof req.headers.host === "string" && /^[\w.:[\]-]+$/.test(req.headers.host);
      const baseUrl =
        ctx.options.publicUrl ??
        (host ? `http://${req.headers.host}` : `http://${ownHost}:${ctx.options.port}`);
      await handler({ req, res, ctx, params, query, api, baseUrl });
    } catch (err) {
      // Cut off mid-body (the request timeout, or the client went away): nobody is left to answer.
      if (!req.complete && req.socket.destroyed) {
        ctx.log?.info({ path, method: req.method }, "request aborted");
        return;
      }
      const e =
        err instanceof HttpError
          ? err
          : new HttpError(500, "The server had an error while processing your request.");
      if (!(err instanceof HttpError) || e.status >= 500) {
        ctx.log?.error({ err: (err as Error)?.message, path, method: req.method }, "request failed");
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!req.readableEnded) discardBody(req);
      sendJson(res, e.status, errorBody(api, e, requestId));
    } finally {
      ctx.log?.debug(
        { method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) },
        "request",
      );
    }
  };
  // Of Node's clocks for a slow client (https://nodejs.org/api/http.html, server.timeout,
  // server.headersTimeout, server.requestTimeout):
  // - server.timeout is socket inactivity; a client sending a byte a minute resets it forever.
  // - headersTimeout bounds the headers only, never the body.
  // - requestTimeout bounds the whole request, headers and body: past it Node answers 408 itself
  //   and closes the connection, so the handler's body stream fails and the partial upload is
  //   removed (parseMultipart's cleanup). That is the one that stops a trickle, so it is used here.
  // Node refuses a headersTimeout above requestTimeout, and checks both only every
  // connectionsCheckingInterval (30 s by default), so a short timeout gets a tighter interval.
  const requestTimeout = ctx.options.requestTimeoutMs;
  const headersTimeout = Math.min(60_000, requestTimeout);
  const connectionsCheckingInterval = Math.max(10, Math.min(30_000, Math.floor(headersTimeout / 4)));
  const server = createServer({ requestTimeout, headersTimeout, connectionsCheckingInterval }, (req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5000;
  return server;
}
