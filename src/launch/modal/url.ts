// Finds the web URL in the whole output of `modal deploy`. Modal prints through Rich, which wraps
// at 80 columns when piped: the URL may stand on the line after `=>`, split mid-word across lines.

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[ -/]*[@-~]`, "g");
// Rich's tree guides and the indentation it repeats on a wrapped label's continuation lines.
const PREFIX = /^[\s│├└─┃┣┗━]*/u;
const URL_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
/** Modal's web endpoints are `https://<label>.modal.run`, without a path. */
const COMPLETE = /\.modal\.run\/?$/;

function split(line: string): { prefix: string; rest: string } {
  const prefix = PREFIX.exec(line)?.[0] ?? "";
  return { prefix, rest: line.slice(prefix.length) };
}

/** The part of a URL a wrapped line continues with, or undefined when the line is something else. */
function continuation(line: string, prefix: string): string | undefined {
  const next = split(line);
  if (next.prefix !== prefix || next.rest === "" || next.rest.startsWith("View Deployment")) return undefined;
  const token = next.rest.split(/\s+/)[0] ?? "";
  return URL_CHARS.test(token) && !token.includes("://") ? token : undefined;
}

function valid(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? url.replace(/\/+$/, "") : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The URL printed after `Created web function serve =>` (or any `Created ... =>` line), rejoined
 * when Rich wrapped it; undefined when none is there. The dashboard's `View Deployment` URL is
 * never taken: it is not where the app answers.
 */
export function findModalWebUrl(output: string): string | undefined {
  const lines = output.replace(ANSI, "").replace(/\r/g, "").split("\n");
  const starts = lines.map((line, i) => ({ line, i })).filter(({ line }) => /Created\b.*=>/.test(line));
  // The function vbatch deploys is `serve`; other `=>` lines (custom domains) come after it.
  starts.sort((a, b) => Number(/\bserve\s*=>/.test(b.line)) - Number(/\bserve\s*=>/.test(a.line)));
  for (const { line, i } of starts) {
    let at = i;
    let { prefix, rest } = split(line);
    rest = line.slice(line.indexOf("=>") + 2).trim();
    if (rest === "") {
      // Wrapped: the URL starts the next line, after the tree's continuation indent.
      const next = lines[i + 1];
      if (next === undefined) continue;
      ({ prefix, rest } = split(next));
      at = i + 1;
    }
    let url = rest.split(/\s+/)[0] ?? "";
    if (!/^https?:\/\//.test(url)) continue;
    // A URL longer than the line is folded: its tail starts the following line, indented alike.
    let alone = rest.trim() === url;
    while (alone && !COMPLETE.test(url)) {
      const next = lines[at + 1];
      const tail = next === undefined ? undefined : continuation(next, prefix);
      if (next === undefined || tail === undefined) break;
      url += tail;
      at += 1;
      alone = split(next).rest.trim() === tail;
    }
    const found = valid(url);
    if (found) return found;
  }
  return undefined;
}
