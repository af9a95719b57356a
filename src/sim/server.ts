// The HTTP face of the simulator: vLLM's OpenAI-compatible routes on bare node:http. The request path
// stays lean (no logging, no per-request timers when the delay is 0) because benchmarks push well
// over 10,000 tiny requests a second through it on one core.

import { randomBytes } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { isPlainObject } from "../util/object.js";
import { urlHost } from "../util/url-host.js";
import { Engine, EngineJob } from "./engine.js";
import {
  type ErrorInfo,
  errorBody,
  fieldMissing,
  internalError,
  invalidJson,
  METHOD_NOT_ALLOWED_BODY,
  NOT_FOUND_BODY,
  notAnObject,
  rateLimited,
  requestFailure,
} from "./errors.js";
import { FaultPlan } from "./faults.js";
import { outputTokensFor } from "./lengths.js";
import { renderMetrics } from "./metrics.js";
import { resolveOptions, type SimConfig } from "./options.js";
import {
  pairsOf,
  poolingWork,
  rerankBody,
  responsesAsChat,
  responsesBody,
  scoreBody,
} from "./pooling-and-responses.js";
import {
  chatCompletionBody,
  completionBody,
  embeddingBody,
  hash16,
  modelsBody,
  tokenizeBody,
} from "./replies.js";
import { chatWork, checkModel, completionWork, embeddingWork, isErrorInfo, type Work } from "./requests.js";
import { chatTokenIds, templateOptions, textTokenIds } from "./tokens.js";
import type { SimFaults, SimOptions, SimServer, SimStats } from "./types.js";

type Body = Record<string, unknown>;

/** What the engine does with one kind of request, and what it answers once done. */
interface RequestKind {
  /** Sizes the request's work, or the error it is refused with. */
  work(cfg: SimConfig, body: Body, raw: string): Work | ErrorInfo;
  /** The 200 answer's body. */
  reply(cfg: SimConfig, id: string, work: Work, created: number): string;
}

/** Score and rerank: pooling work over the pairs the body compares. */
function pairWork(cfg: SimConfig, body: Body, rerank: boolean): Work | ErrorInfo {
  const modelError = checkModel(cfg, body);
  if (modelError) return modelError;
  const p = pairsOf(body, rerank);
  if (isErrorInfo(p)) return p;
  return poolingWork(cfg, p.tokens, p.pairs, typeof body.top_n === "number" ? body.top_n : 0);
}

/** The requests the engine runs, by kind: a new kind is added here and given its paths below. */
const ENGINE_KINDS = {
  chat: {
    work: (cfg, body, raw) => chatWork(cfg, body, outputTokensFor(cfg.output, raw)),
    reply: (cfg, id, work, created) => chatCompletionBody(id, work, cfg.model, created),
  },
  completion: {
    work: (cfg, body, raw) => completionWork(cfg, body, outputTokensFor(cfg.output, raw)),
    reply: (cfg, id, work, created) => completionBody(id, work, cfg.model, created),
  },
  embedding: {
    work: (cfg, body) => embeddingWork(cfg, body),
    reply: (cfg, id, work, created) =>
      embeddingBody(id, created, cfg.model, work.inputs ?? [], cfg.embeddingDim, work.promptTokens),
  },
  responses: {
    work: (cfg, body, raw) => {
      const chat = responsesAsChat(body);
      return isErrorInfo(chat) ? chat : chatWork(cfg, chat, outputTokensFor(cfg.output, raw));
    },
    reply: (cfg, id, work, created) => responsesBody(id, work, cfg.model, created),
  },
  score: {
    work: (cfg, body) => pairWork(cfg, body, false),
    reply: (cfg, id, work, created) => scoreBody(id, created, cfg.model, work),
  },
  rerank: {
    work: (cfg, body) => pairWork(cfg, body, true),
    reply: (cfg, id, work) => rerankBody(id, cfg.model, work),
  },
} satisfies Record<string, RequestKind>;
type EngineKind = keyof typeof ENGINE_KINDS;
/** The POST routes: a request the engine runs, or one the server answers itself. */
type BodyKind = EngineKind | "tokenize" | "faults";

const JSON_TYPE = "application/json";
const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const POST_KINDS = new Map<string, BodyKind>([
  ["/v1/chat/completions", "chat"],
  ["/v1/completions", "completion"],
  ["/v1/embeddings", "embedding"],
  ["/v1/responses", "responses"],
  // vLLM serves score and rerank under each of these paths.
  ["/v1/score", "score"],
  ["/score", "score"],
  ["/v1/rerank", "rerank"],
  ["/rerank", "rerank"],
  ["/v2/rerank", "rerank"],
  ["/tokenize", "tokenize"],
  ["/sim/faults", "faults"],
]);
const GET_PATHS = new Set(["/health", "/ping", "/version", "/v1/models", "/metrics", "/sim/stats"]);
const STATUS_KEYS = ["200", "400", "404", "429", "500", "drop", "abort"];

/** A generation or embedding request in the engine, with what its answer needs. */
class SimRequest extends EngineJob {
  constructor(
    readonly res: ServerResponse,
    readonly kind: EngineKind,
    readonly id: string,
    readonly work: Work,
  ) {
    super(work.durationMs, work.kvTokens);
  }
}

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

  private readonly engine: Engine<SimRequest>;
  private readonly sockets = new Set<Socket>();
  private readonly idPrefix = randomBytes(8).toString("hex");
  private seq = 0;

  private lifetimeReceived = 0;
  private received = 0;
  private completed = 0;
  private byStatus: Record<string, number> = {};
  private readonly keys: Map<string, number> | null;

  private promptTokensTotal = 0;
  private generationTokensTotal = 0;
  private readonly success = { stop: 0, length: 0, abort: 0 };

  private closing = false;
  private dead = false;
  private closed: Promise<void> | null = null;

  constructor(
    private readonly cfg: SimConfig,
    private readonly faults: FaultPlan,
  ) {
    this.engine = new Engine<SimRequest>(cfg.maxNumSeqs, this.onDone);
    this.keys = cfg.trackRequests ? new Map() : null;
    this.clearStatus();
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
      stats: () => this.stats(),
      resetStats: () => this.resetStats(),
      setFaults: (f: SimFaults) => this.faults.set(f),
      close: () => this.close(),
      kill: () => this.kill(),
    };
  }

  stats(): SimStats {
    const s: SimStats = {
      received: this.received,
      completed: this.completed,
      byStatus: { ...this.byStatus },
      ...this.engine.counters(),
      timeOrigin: performance.timeOrigin,
    };
    if (this.keys) s.requestsByKey = Object.fromEntries(this.keys);
    return s;
  }

  resetStats(): void {
    this.received = 0;
    this.completed = 0;
    this.clearStatus();
    this.keys?.clear();
    this.engine.resetCounters();
  }

  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    // The callback runs once the last connection is gone; answers still owed go out with
    // Connection: close, which ends their sockets.
    this.closed = new Promise((resolve) => this.server.close(() => resolve()));
    // Every other socket goes now: idle keep-alive ones, and also fresh connections a client pool
    // opened ahead of need, which Node counts as active and closeIdleConnections() would leave
    // open until the client's own keep-alive timeout.
    const owed = new Set<Socket>();
    for (const job of this.engine.inFlight()) {
      if (job.res.socket) owed.add(job.res.socket);
    }
    for (const socket of this.sockets) {
      if (!owed.has(socket)) socket.destroy();
    }
    return this.closed;
  }

  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.engine.abortAll();
    if (this.server.listening) this.server.close();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private clearStatus(): void {
    this.byStatus = {};
    for (const k of STATUS_KEYS) this.byStatus[k] = 0;
  }

  private count(key: string): void {
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }

  private nextId(): string {
    this.seq++;
    return this.idPrefix + this.seq.toString(16).padStart(16, "0");
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.dead) {
      req.socket.destroy();
      return;
    }
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method;
    if (method === "POST") {
      const kind = POST_KINDS.get(path);
      if (kind !== undefined) {
        this.readBody(req, res, kind);
        return;
      }
    } else if (method === "GET" && this.get(path, res)) {
      return;
    }
    const known = POST_KINDS.has(path) || GET_PATHS.has(path);
    this.send(res, known ? 405 : 404, known ? METHOD_NOT_ALLOWED_BODY : NOT_FOUND_BODY, null, JSON_TYPE);
  };

  /** The GET routes; false when the path has none. */
  private get(path: string, res: ServerResponse): boolean {
    switch (path) {
      case "/health":
      case "/ping":
        this.send(res, 200, "", null, null);
        return true;
      case "/version":
        this.send(res, 200, '{"version":"0.0.0+vbatch.sim"}', null, JSON_TYPE);
        return true;
      case "/v1/models":
        this.send(
          res,
          200,
          modelsBody(this.cfg.model, this.cfg.maxModelLen, Math.floor(Date.now() / 1000)),
          null,
          JSON_TYPE,
        );
        return true;
      case "/metrics":
        if (this.cfg.metrics) this.send(res, 200, this.metricsText(), null, METRICS_TYPE);
        else this.send(res, 404, NOT_FOUND_BODY, null, JSON_TYPE);
        return true;
      case "/sim/stats":
        this.send(res, 200, JSON.stringify(this.stats()), null, JSON_TYPE);
        return true;
      default:
        return false;
    }
  }

  private readBody(req: IncomingMessage, res: ServerResponse, kind: BodyKind): void {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on("data", (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else if (more === undefined) more = [first, chunk];
      else more.push(chunk);
    });
    req.on("end", () => {
      if (this.dead) return;
      const raw = more ? Buffer.concat(more).toString() : first ? first.toString() : "";
      if (kind === "tokenize") this.tokenize(req, res, raw);
      else if (kind === "faults") this.setFaultsFromBody(res, raw);
      else {
        this.cfg.onRequestBody?.(req.url ?? "", raw);
        this.generation(req, res, kind, raw);
      }
    });
  }

  private generation(req: IncomingMessage, res: ServerResponse, kind: EngineKind, raw: string): void {
    this.received++;
    this.lifetimeReceived++;
    if (this.keys) {
      const key = hash16(raw);
      this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
    }
    if (this.cfg.exitAfter !== null && this.lifetimeReceived >= this.cfg.exitAfter) {
      this.die();
      return;
    }

    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && header !== "" ? header : this.nextId();

    const fault = this.faults.decide();
    if (fault !== "none") {
      if (fault === "drop") {
        this.count("drop");
        req.socket.destroy();
      } else if (fault === "error") {
        this.fail(res, internalError(), requestId);
      } else {
        const seconds = this.faults.retryAfterSeconds;
        this.fail(res, rateLimited(), requestId, {
          "retry-after": String(seconds),
          "retry-after-ms": String(Math.round(seconds * 1000)),
        });
      }
      return;
    }

    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      this.fail(res, this.jsonError(err, raw), requestId);
      return;
    }
    if (!isPlainObject(body)) {
      this.fail(res, notAnObject(), requestId);
      return;
    }
    const work = ENGINE_KINDS[kind].work(this.cfg, body, raw);
    if (isErrorInfo(work)) {
      this.fail(res, work, requestId);
      return;
    }
    // Test hook: a valid body with "sim_fail": 500 or 501 fails as that row would in a real engine.
    if (body.sim_fail === 500 || body.sim_fail === 501) {
      this.fail(res, requestFailure(body.sim_fail), requestId);
      return;
    }
    const job = new SimRequest(res, kind, requestId, work);
    this.engine.submit(job);
    if (!job.finished) {
      res.once("close", () => {
        if (job.finished) return;
        this.engine.cancel(job);
        this.success.abort++;
        this.count("abort");
      });
    }
  }

  private jsonError(err: unknown, raw: string): ErrorInfo {
    const message = err instanceof Error ? err.message : String(err);
    const at = /position (\d+)/.exec(message);
    const position = at?.[1] !== undefined ? Number(at[1]) : raw.length === 0 ? 0 : raw.length - 1;
    return invalidJson(position, raw.trim() === "" ? "Expecting value" : message.replace(/'/g, "\\'"));
  }

  private readonly onDone = (job: SimRequest): void => {
    const res = job.res;
    if (res.destroyed) {
      this.success.abort++;
      this.count("abort");
      return;
    }
    const work = job.work;
    this.promptTokensTotal += work.promptTokens;
    this.generationTokensTotal += work.completionTokens;
    this.success[work.finishReason]++;
    const body = ENGINE_KINDS[job.kind].reply(this.cfg, job.id, work, Math.floor(Date.now() / 1000));
    this.completed++;
    this.count("200");
    this.send(res, 200, body, job.id, JSON_TYPE);
  };

  private tokenize(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && header !== "" ? header : null;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      this.error(res, this.jsonError(err, raw), requestId);
      return;
    }
    if (!isPlainObject(body)) {
      this.error(res, notAnObject(), requestId);
      return;
    }
    let tokens: number[];
    if (Array.isArray(body.messages)) tokens = chatTokenIds(body.messages, templateOptions(body));
    else if (typeof body.prompt === "string") tokens = textTokenIds(body.prompt);
    else {
      this.error(res, fieldMissing(body.messages === undefined ? "prompt" : "messages"), requestId);
      return;
    }
    const modelError = checkModel(this.cfg, body);
    if (modelError) {
      this.error(res, modelError, requestId);
      return;
    }
    this.send(res, 200, tokenizeBody(tokens, this.cfg.maxModelLen), requestId, JSON_TYPE);
  }

  private setFaultsFromBody(res: ServerResponse, raw: string): void {
    try {
      const body: unknown = JSON.parse(raw);
      if (!isPlainObject(body)) throw new TypeError("faults must be a JSON object");
      this.faults.set(body as SimFaults);
      this.send(res, 200, JSON.stringify(this.faults.current), null, JSON_TYPE);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.send(res, 400, JSON.stringify({ error: { message } }), null, JSON_TYPE);
    }
  }

  private metricsText(): string {
    const e = this.engine;
    return renderMetrics({
      model: this.cfg.model,
      running: e.running,
      waiting: e.waiting,
      kvCacheUsage: Math.min(1, e.runningTokens / (this.cfg.maxNumSeqs * 1024)),
      promptTokens: this.promptTokensTotal,
      generationTokens: this.generationTokensTotal,
      success: this.success,
    });
  }

  /** An error answer to a completion/embedding request: counted in byStatus. */
  private fail(res: ServerResponse, info: ErrorInfo, requestId: string, extra?: OutgoingHttpHeaders): void {
    this.count(String(info.code));
    this.send(res, info.code, errorBody(this.cfg.errorFormat, info), requestId, JSON_TYPE, extra);
  }

  private error(res: ServerResponse, info: ErrorInfo, requestId: string | null): void {
    this.send(res, info.code, errorBody(this.cfg.errorFormat, info), requestId, JSON_TYPE);
  }

  private send(
    res: ServerResponse,
    status: number,
    body: string,
    requestId: string | null,
    contentType: string | null,
    extra?: OutgoingHttpHeaders,
  ): void {
    const headers: OutgoingHttpHeaders = { "content-length": Buffer.byteLength(body) };
    if (contentType !== null) headers["content-type"] = contentType;
    if (requestId !== null) headers["x-request-id"] = requestId;
    if (this.closing) headers.connection = "close";
    if (extra) Object.assign(headers, extra);
    res.writeHead(status, headers);
    res.end(body);
  }

  private die(): void {
    if (this.dead) return;
    this.kill();
    this.cfg.onExit?.();
  }
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
