// Engine addresses as users type them: "http://host:8000", ".../v1" and a pasted API URL such as
// ".../v1/chat/completions" are the same engine. Internally an endpoint is its origin plus any
// path prefix, without /v1 and what follows it; vbatch adds the API paths itself.
import { VbatchError } from "../errors.js";

/** The OpenAI-compatible paths a pasted endpoint may end with (vbatch adds them itself). */
const API_PATH =
  /\/v1(?:\/(?:chat\/completions|completions|embeddings|models|responses|score|rerank|tokenize|messages))?$/;

function parse(input: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new VbatchError(
      "usage",
      `${flag} ${JSON.stringify(input)} is not a URL (expected http://host:8000)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new VbatchError("usage", `${flag} ${JSON.stringify(input)} must be http:// or https://`);
  }
  if (url.search || url.hash) {
    throw new VbatchError("usage", `${flag} ${JSON.stringify(input)} must not carry a query or fragment`);
  }
  return url;
}

/** The path prefix of an endpoint, with trailing slashes and a trailing API path removed. */
function rootPath(url: URL): { path: string; strippedApi: boolean } {
  const trimmed = url.pathname.replace(/\/+$/, "");
  const m = API_PATH.exec(trimmed);
  const path = m ? trimmed.slice(0, m.index).replace(/\/+$/, "") : trimmed;
  // "/v1" alone is the documented way to write an endpoint; a longer API path is a paste.
  return { path, strippedApi: m !== null && m[0] !== "/v1" };
}

export function normalizeEndpoint(input: string, flag = "--endpoint"): string {
  const url = parse(input, flag);
  return `${url.origin}${rootPath(url).path}`;
}

/**
 * A note for an endpoint given with an API path (`.../v1/chat/completions`): it is used as the
 * server's root, and the user is told so once. Null when it was written as a root (or `.../v1`).
 */
export function endpointNote(input: string, flag = "--endpoint"): string | null {
  const url = parse(input, flag);
  const { path, strippedApi } = rootPath(url);
  if (!strippedApi) return null;
  return `${flag} ${input.trim()} is read as ${url.origin}${path} (vbatch adds /v1/... itself)`;
}
