// The HTTP face of the simulator: vLLM's OpenAI-compatible routes on bare node:http, split the way
// vLLM splits its server (vllm/entrypoints/openai/api_server.py routes; one serving module per
// endpoint family, e.g. chat_completion/serving.py): this file only routes and runs the server's
// life; each family answers in src/sim/serving/. The request path stays lean (no logging, no
// per-request timers when the delay is 0): benchmarks push over 10,000 requests a second.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { urlHost } from "../util/url-host.js";
import { METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY } from "./errors.js";
import { FaultPlan } from "./faults.js";
import { resolveOptions, type SimConfig } from "./options.js";
import { chat } from "./serving/chat.js";
import { completion } from "./serving/completions.js";
import { JSON_TYPE, SimContext } from "./serving/context.js";
import { embedding } from "./serving/embeddings.js";
import { setFaults } from "./serving/faults.js";
import { finish, generation } from "./serving/generate.js";
import type { RequestKind } from "./serving/kind.js";
import { metrics } from "./serving/metrics.js";
import { health, models, simStats, version } from "./serving/models.js";
import { rerank, score } from "./serving/pooling.js";
import { responses } from "./serving/responses.js";
import { tokenize } from "./serving/tokenize.js";
import type { SimFaults, SimOptions, SimServer } from "./types.js";

/** A POST route: a request the engine runs, or one the server answers itself. */
type PostRoute =
  | RequestKind
  | ((ctx: SimContext, req: IncomingMessage, res: ServerResponse, raw: string) => void);

const POST_ROUTES = new Map<string, PostRoute>([
  ["/v1/chat/completions", chat],
  ["/v1/completions", completion],
  ["/v1/embeddings", embedding],
  ["/v1/responses", responses],
  // vLLM serves score and rerank under each of these paths.
  ["/v1/score", score],
  ["/score", score],
  ["/v1/rerank", rerank],
  ["/rerank", rerank],
  ["/v2/rerank", rerank],
  ["/tokenize", tokenize],
  ["/sim/faults", (ctx, _req, res, raw) => setFaults(ctx, res, raw)],
]);
const GET_ROUTES = new Map<string, (ctx: SimContext, res: ServerResponse) => void>([
  ["/health", health],
  ["/ping", health],
  ["/version", version],
  ["/v1/models", models],
  ["/metrics", metrics],
  ["/sim/stats", simStats],
]);

/** Where a client reaches a server listening on `host` (a wildcard address: this machine). */
function reachableHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return urlHost(host);
}

class SimHttpServer {
  readonly server: Server;
  url = "";
  port = 0;
  private readonly ctx: SimContext;
  private readonly sockets = new Set<Socket>();
  private closed: Promise<void> | null = null;

  constructor(
    private readonly cfg: SimConfig,
    faults: FaultPlan,
  ) {
    const ctx: SimContext = new SimContext(cfg, faults, (job) => finish(ctx, job));
    this.ctx = ctx;
    this.server = createServer(this.onRequest);
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen(this.cfg.port, this.cfg.host, () => {
        this.server.off("error", onError);
        const address = this.server.address();
        this.port = typeof address === "object" && address !== null ? address.port : this.cfg.port;
        this.url = `http://${reachableHost(this.cfg.host)}:${this.port}`;
        resolve();
      });
    });
  }

  handle(): SimServer {
    return {
      url: this.url,
      port: this.port,
      stats: () => this.ctx.stats(),
      resetStats: () => this.ctx.resetStats(),
      setFaults: (f: SimFaults) => this.ctx.faults.set(f),
      close: () => this.close(),
      kill: () => this.kill(),
    };
  }

  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.ctx.closing = true;
    // The callback runs once the last connection is gone; answers still owed go out with
    // Connection: close, which ends their sockets.
    this.closed = new Promise((resolve) => this.server.close(() => resolve()));
    // Every other socket goes now: idle keep-alive ones, and also fresh connections a client pool
    // opened ahead of need, which Node counts as active and closeIdleConnections() would leave
    // open until the client's own keep-alive timeout.
    const owed = new Set<Socket>();
    for (const job of this.ctx.engine.inFlight()) {
      if (job.res.socket) owed.add(job.res.socket);
    }
    for (const socket of this.sockets) {
      if (!owed.has(socket)) socket.destroy();
    }
    return this.closed;
  }

  kill(): void {
    if (this.ctx.dead) return;
    this.ctx.dead = true;
    this.ctx.engine.abortAll();
    if (this.server.listening) this.server.close();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.ctx.dead) {
      req.socket.destroy();
      return;
    }
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method;
    if (method === "POST") {
      const route = POST_ROUTES.get(path);
      if (route !== undefined) {
        this.readBody(req, res, route);
        return;
      }
    } else if (method === "GET") {
      const route = GET_ROUTES.get(path);
      if (route !== undefined) {
        route(this.ctx, res);
        return;
      }
    }
    const known = POST_ROUTES.has(path) || GET_ROUTES.has(path);
    this.ctx.send(res, known ? 405 : 404, known ? METHOD_NOT_ALLOWED_BODY : NOT_FOUND_BODY, null, JSON_TYPE);
  };

  private readBody(req: IncomingMessage, res: ServerResponse, route: PostRoute): void {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on("data", (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else if (more === undefined) more = [first, chunk];
      else more.push(chunk);
    });
    req.on("end", () => {
      if (this.ctx.dead) return;
      const raw = more ? Buffer.concat(more).toString() : first ? first.toString() : "";
      if (typeof route === "function") route(this.ctx, req, res, raw);
      else {
        this.cfg.onRequestBody?.(req.url ?? "", raw);
        generation(this.ctx, req, res, route, raw, this.die);
      }
    });
  }

  private readonly die = (): void => {
    if (this.ctx.dead) return;
    this.kill();
    this.cfg.onExit?.();
  };
}

/** Starts a simulated vLLM server; resolves once it listens (after startupDelayMs, like a loading engine). */
export async function startSim(options: SimOptions = {}): Promise<SimServer> {
  const cfg = resolveOptions(options);
  // built before the delay so bad fault rates fail at once
  const faults = new FaultPlan(cfg.seed, cfg.faults);
  if (cfg.startupDelayMs > 0) await delay(cfg.startupDelayMs);
  const sim = new SimHttpServer(cfg, faults);
  await sim.listen();
  return sim.handle();
}
