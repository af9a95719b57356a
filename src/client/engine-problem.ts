// What a failed first contact with an engine means. vLLM refuses connections until its weights are
// loaded (and a proxy in front answers 502-504 meanwhile), so those are worth waiting for; a live
// server answering 404, a name that does not resolve, or TLS spoken to a plain-HTTP port never
// turns into an engine, and waiting --engine-wait for it only hides a typo.

/**
 * "loading": what an engine that is starting looks like; "waiting": worth trying again, but not
 * a loading engine (a timeout, a temporary DNS failure); "wrong": the address will never work.
 */
export type EngineProblemKind = "loading" | "waiting" | "wrong";

export interface EngineProblem {
  kind: EngineProblemKind;
  /** What is wrong, e.g. "answers 404 to GET /v1/models". */
  reason: string;
  /** What to do instead (for "wrong"). */
  fix?: string | undefined;
}

/** An engine's answer to a discovery request that was not 200. */
export class EngineAnswered extends Error {
  constructor(
    readonly status: number,
    /** The path asked, under the endpoint, e.g. "/v1/models". */
    readonly path: string,
  ) {
    super(`answers ${status} to GET ${path}`);
    this.name = "EngineAnswered";
  }
}

/** The first `code` and the innermost message along an error's cause chain. */
function causeOf(err: unknown): { code: string | undefined; message: string } {
  let code: string | undefined;
  let message = err instanceof Error ? err.message : String(err);
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e !== null && typeof e === "object"; depth++) {
    const c = (e as { code?: unknown }).code;
    if (code === undefined && typeof c === "string") code = c;
    const m = (e as { message?: unknown }).message;
    if (typeof m === "string" && m !== "") message = m;
    e = (e as { cause?: unknown }).cause;
  }
  return { code, message };
}

/** Names under .invalid never resolve (RFC 6761 section 6.4): no lookup needed to know. */
export function unresolvableHost(base: string): EngineProblem | null {
  const host = new URL(base).hostname.replace(/\.$/, "").toLowerCase();
  if (host !== "invalid" && !host.endsWith(".invalid")) return null;
  return {
    kind: "wrong",
    reason: `the host name ${host} does not resolve (names under .invalid never do)`,
    fix: "check the host name, or pass an IP address",
  };
}

function statusProblem(base: string, err: EngineAnswered): EngineProblem {
  const { status, path } = err;
  const url = new URL(base);
  const asked = `${url.pathname.replace(/\/$/, "")}${path}`;
  if (status === 502 || status === 503 || status === 504) {
    return { kind: "loading", reason: `answers ${status} to GET ${asked} (starting?)` };
  }
  if (status === 401 || status === 403) {
    return {
      kind: "wrong",
      reason: `answers ${status} to GET ${asked}: it refuses the API key`,
      fix: "pass the engine's key with --api-key <key> or VBATCH_ENGINE_API_KEY",
    };
  }
  if (status === 404 || status === 405) {
    const root = url.pathname !== "/" ? ` (or ${url.origin} if the path is not part of its address)` : "";
    return {
      kind: "wrong",
      reason: `answers ${status} to GET ${asked}: a server is listening, but not an OpenAI-compatible API at this address`,
      fix: `check the port, or pass the URL the API is served under, e.g. http://host:8000 for vLLM${root}`,
    };
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return { kind: "wrong", reason: `answers ${status} to GET ${asked}`, fix: "check the address" };
  }
  return { kind: "waiting", reason: `answers ${status} to GET ${asked}` };
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|EPROTO$)/;
const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;

/** What `err`, from a first request to the engine at `base`, says about the address. */
export function engineProblem(base: string, err: unknown): EngineProblem {
  if (err instanceof EngineAnswered) return statusProblem(base, err);
  const url = new URL(base);
  const { code, message } = causeOf(err);
  const hostPort = url.host;
  switch (code) {
    case "ECONNREFUSED":
      return { kind: "loading", reason: "refuses connections" };
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
      return { kind: "loading", reason: `closed the connection (${code})` };
    case "ENOTFOUND":
      return {
        kind: "wrong",
        reason: `the host name ${url.hostname} does not resolve (ENOTFOUND)`,
        fix: "check the host name, or pass an IP address",
      };
    case "EAI_AGAIN":
      return {
        kind: "waiting",
        reason: `looking up ${url.hostname} failed for now (EAI_AGAIN: the DNS resolver did not answer)`,
      };
  }
  if (code && CERT_CODE.test(code)) {
    return {
      kind: "wrong",
      reason: `its TLS certificate is not trusted (${code})`,
      fix: "give Node the CA with NODE_EXTRA_CA_CERTS=<ca.pem>, or use http:// if the engine serves plain HTTP",
    };
  }
  if ((code && TLS_CODE.test(code)) || /wrong version number|packet length too long/i.test(message)) {
    const failed = `the TLS handshake failed (${code ?? message.split("\n")[0]})`;
    return url.protocol === "https:"
      ? {
          kind: "wrong",
          reason: `${failed}: the port speaks plain HTTP`,
          fix: `pass http://${hostPort}${url.pathname === "/" ? "" : url.pathname}`,
        }
      : { kind: "wrong", reason: failed, fix: "check the address" };
  }
  if (code?.startsWith("HPE_")) {
    return {
      kind: "wrong",
      reason: `does not answer in HTTP (${code})`,
      fix:
        url.protocol === "http:"
          ? `if it serves HTTPS, pass https://${hostPort}`
          : "check the address and port",
    };
  }
  const timedOut =
    (err as { kind?: unknown })?.kind === "timeout" ||
    code === "ETIMEDOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    (err as Error)?.name === "TimeoutError";
  if (timedOut) return { kind: "waiting", reason: "does not answer (timed out)" };
  return {
    kind: "waiting",
    reason: code ? `${code}: ${message.split("\n")[0]}` : (message.split("\n")[0] ?? ""),
  };
}

/** "engine <base>: <reason>; <fix>": one line for a problem that ends the job. */
export function describeProblem(base: string, p: EngineProblem): string {
  return `engine ${base}: ${p.reason}${p.fix ? `; ${p.fix}` : ""}`;
}
