// The login form: the key is posted once (never in a URL, never logged: the server logs method,
// path and status only) and a valid one gets a session cookie. Without keys there is nothing to
// log in to, and the form sends the browser on to the dashboard.
import type { IncomingMessage } from "node:http";
import { escapeHtml } from "../../report/escape.js";
import { renderPage } from "../../report/page.js";
import { HttpError } from "../http/respond.js";
import type { RouteRequest } from "../http/router.js";
import { redirect, sendPage } from "./respond-page.js";

/** A form post holds one key: anything longer is refused unread. */
const MAX_FORM_BYTES = 8 * 1024;

function loginPage(message: string | null): string {
  return renderPage({
    title: "vbatch serve: log in",
    body: `<main><h1>vbatch serve</h1>
<p>This server asks for an API key (the one its API clients send as <code>Authorization: Bearer</code>).</p>
${message ? `<p class="note" role="alert">${escapeHtml(message)}</p>` : ""}
<form class="login" method="post" action="/login">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form></main>`,
  });
}

const secure = (r: RouteRequest) => r.ctx.options.publicUrl?.startsWith("https:") ?? false;

export function loginForm(r: RouteRequest): void {
  if (r.ctx.keys.enabled) sendPage(r.res, 200, loginPage(null));
  else redirect(r.res, "/");
}

export async function login(r: RouteRequest): Promise<void> {
  const key = new URLSearchParams(await readForm(r.req)).get("key") ?? "";
  if (r.ctx.keys.enabled && !r.ctx.keys.matches(key)) {
    sendPage(r.res, 401, loginPage("That key is not a key of this server."));
    return;
  }
  redirect(r.res, "/", r.ctx.keys.enabled ? { "set-cookie": r.ctx.sessions.create(secure(r)) } : {});
}

export function logout(r: RouteRequest): void {
  redirect(r.res, "/login", { "set-cookie": r.ctx.sessions.end(r.req.headers, secure(r)) });
}

async function readForm(req: IncomingMessage): Promise<string> {
  const type = String(req.headers["content-type"] ?? "");
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw new HttpError(415, "The login form posts application/x-www-form-urlencoded");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, `The form is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
