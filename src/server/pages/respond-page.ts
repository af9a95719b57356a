// An HTML answer: the page's own Content-Security-Policy as a header too (frame-ancestors works
// only there), never cached, never sniffed as anything else.
import type { ServerResponse } from "node:http";
import { pageCsp } from "../../report/page.js";

export function sendPage(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "content-security-policy": pageCsp(html),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(html);
}

export function redirect(res: ServerResponse, to: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { location: to, "cache-control": "no-store", ...headers });
  res.end();
}
