// What vbatch does with each line an engine prints: hide secrets, keep a tail for error messages,
// spot the lines after which vLLM will never become ready, and forward the rest to the log.
import type { Logger } from "pino";

/** Lines after which a starting vLLM will not come up; matching one fails the start at once. */
const FATAL = [
  /CUDA out of memory/i,
  /OutOfMemoryError/,
  // The exception line, not the `raise RuntimeError("Engine core initialization failed. "` source
  // line Python prints above it in the same traceback.
  /Error: Engine core initialization failed/i,
  /Engine process failed to start/i,
  /No available memory for the cache blocks/i,
  /is larger than the maximum number of tokens that can be stored in KV cache/i,
  /CUDA error: no CUDA-capable device is detected/i,
  /Failed to infer device type/i,
  /\[Errno 98\] .*address already in use/i,
  /Repository Not Found for url|GatedRepoError|401 Client Error/i,
];

/** The fatal pattern a line matches, if any. */
export function fatalLine(line: string): boolean {
  return FATAL.some((re) => re.test(line));
}

/** A fatal line as a reason: without vLLM's `(EngineCore pid=104) ` process prefix. */
export function fatalReason(line: string): string {
  return line.trim().replace(/^\([A-Za-z0-9_]+(?: rank=\d+)? pid=\d+\)\s*/, "");
}

/** Environment variables whose values never reach a log line, an error or argv. */
export const SECRET_VARS = ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "VLLM_API_KEY", "MODAL_TOKEN_SECRET"];

/** Replaces every secret value found in env with [redacted]. */
export function redactor(env: NodeJS.ProcessEnv): (text: string) => string {
  const secrets = SECRET_VARS.map((k) => env[k]).filter(
    (v): v is string => typeof v === "string" && v.length >= 4,
  );
  if (secrets.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const s of secrets) out = out.split(s).join("[redacted]");
    return out;
  };
}

const SECRET_FLAGS = new Set(["--api-key", "--hf-token"]);

/** A command line for the log, with the values of secret-bearing flags (--api-key) masked. */
export function showArgs(args: string[]): string {
  return args
    .map((a, i) => {
      const flag = a.split("=")[0] ?? a;
      if (a.includes("=") && SECRET_FLAGS.has(flag)) return `${flag}=[redacted]`;
      return i > 0 && SECRET_FLAGS.has(args[i - 1] ?? "") ? "[redacted]" : a;
    })
    .join(" ");
}

/** The last `size` lines, for error details. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly size = 30) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  get(): string[] {
    return [...this.lines];
  }
}

/** Forwards an engine's lines (already redacted) into vbatch's log, at a level that follows vLLM's. */
export function logEngineLine(log: Logger, engine: string, line: string): void {
  if (line.trim() === "") return;
  if (/\b(ERROR|CRITICAL)\b|Traceback|Error:/.test(line)) log.warn({ engine }, line);
  else log.info({ engine }, line);
}
