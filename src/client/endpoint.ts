// Engine addresses as users type them: "http://host:8000" or "http://host:8000/v1" are the same
// engine. Internally an endpoint is its origin plus any path prefix, without the trailing /v1.
import { VbatchError } from "../errors.js";

export function normalizeEndpoint(input: string, flag = "--endpoint"): string {
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
  let path = url.pathname.replace(/\/+$/, "");
  if (path.endsWith("/v1")) path = path.slice(0, -3);
  return `${url.origin}${path}`;
}
