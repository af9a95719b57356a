// Modal cuts a web request at 150 s: instead of the answer it sends 303 See Other to a result URL
// (same path, plus __modal_function_call_id) that blocks until the answer is there, up to another
// 150 s, then redirects again. A client that does not follow would lose the row; this follows,
// and stops at once when the caller's signal aborts (Ctrl-C), however far along the chain it is.

/** True for Modal's "still running, fetch the result here" answer. */
export function isModalRedirect(status: number, location: string | null | undefined): location is string {
  return status === 303 && typeof location === "string" && location.length > 0;
}

export interface ModalResultOptions {
  /** Stops the chain: the GET under way is cut and no further one is sent. */
  signal?: AbortSignal | undefined;
  /** Redirects followed before giving up (each one is up to 150 s). @default 20 */
  maxHops?: number;
  /** Headers for the GETs (e.g. authorization). */
  headers?: Record<string, string> | undefined;
}

export interface ModalResult {
  status: number;
  body: string;
  /** Redirects followed. */
  hops: number;
}

/** The error an aborted chain rejects with: always named AbortError, whatever reason the signal carries. */
function aborted(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  const err = new Error("Modal result wait was aborted", { cause: reason });
  err.name = "AbortError";
  return err;
}

/**
 * GETs a 303's Location (resolved against the request URL) until the answer is not another 303.
 * Throws when maxHops is reached, so the row fails visibly instead of vanishing, and an
 * AbortError when `signal` aborts.
 */
export async function followModalResult(
  requestUrl: string,
  location: string,
  options: ModalResultOptions = {},
): Promise<ModalResult> {
  const maxHops = options.maxHops ?? 20;
  let url = new URL(location, requestUrl).toString();
  const signal = options.signal;
  for (let hops = 1; hops <= maxHops; hops++) {
    if (signal?.aborted) throw aborted(signal);
    const init: RequestInit = { method: "GET", redirect: "manual" };
    if (signal) init.signal = signal;
    if (options.headers) init.headers = options.headers;
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, init);
      body = await res.text();
    } catch (err) {
      throw signal?.aborted ? aborted(signal) : err;
    }
    const next = res.headers.get("location");
    if (!isModalRedirect(res.status, next)) return { status: res.status, body, hops };
    url = new URL(next, url).toString();
  }
  throw new Error(`Modal result still not ready after ${maxHops} redirects (about ${maxHops * 150} s)`);
}
