// One try at bringing an engine up: start it through the driver, stream its lines, and wait for
// /health and /v1/models, failing fast when it exits or prints a line vLLM never recovers from.
import { VbatchError } from "../errors.js";
import type { Driver, EngineSlot, StartedEngine } from "./driver.js";
import { waitReady } from "./health.js";
import { fatalLine, fatalReason, LineTail, logEngineLine } from "./log-lines.js";
import type { ResolvedLaunch } from "./options.js";
import type { LaunchedEngine } from "./types.js";

export type Attempt =
  | { kind: "ready"; started: StartedEngine; engine: LaunchedEngine }
  | { kind: "failed"; reason: string; details: string[] }
  | { kind: "stopped"; started?: StartedEngine | undefined };

/** Lines of an engine's log shown under a failure. */
const TAIL_LINES = 25;

function failureDetails(
  err: unknown,
  tail: string[],
  logPath: string | undefined,
  redact: (text: string) => string,
): string[] {
  const details = err instanceof VbatchError ? err.details.map(redact) : [];
  if (tail.length > 0) details.push("last lines of the engine's log:", ...tail.map((l) => `  ${l}`));
  if (logPath) details.push(`full log: ${logPath}`);
  return details;
}

export async function attemptStart(
  driver: Driver,
  slot: EngineSlot,
  r: ResolvedLaunch,
  stopSignal: AbortSignal,
): Promise<Attempt> {
  const tail = new LineTail(TAIL_LINES);
  let ready = false;
  let onFatal: (line: string) => void = () => {};
  const fatal = new Promise<string>((resolve) => {
    onFatal = resolve;
  });
  const onLine = (raw: string) => {
    const line = r.redact(raw);
    tail.push(line);
    logEngineLine(r.logger, slot.name, line);
    if (!ready && fatalLine(line)) onFatal(line);
  };
  let started: StartedEngine;
  try {
    started = await driver.start(slot, { onLine, signal: stopSignal });
  } catch (err) {
    if (stopSignal.aborted) return { kind: "stopped" };
    return {
      kind: "failed",
      reason: r.redact((err as Error).message),
      details: failureDetails(err, tail.get(), undefined, r.redact),
    };
  }
  if (stopSignal.aborted) return { kind: "stopped", started };

  const waiting = new AbortController();
  const stopWaiting = () => waiting.abort();
  stopSignal.addEventListener("abort", stopWaiting, { once: true });
  let outcome: { ok: true; models: string[] } | { ok: false; reason: string; err?: unknown };
  try {
    outcome = await Promise.race([
      waitReady(started.url, {
        timeoutMs: r.startupTimeoutMs,
        signal: waiting.signal,
        onLog: (m) => r.logger.debug({ engine: slot.name }, m),
      }).then((info) => ({ ok: true as const, models: info.models })),
      started.exited.then((why) => ({ ok: false as const, reason: `${why} before it was ready` })),
      fatal.then((line) => ({ ok: false as const, reason: `fatal error: ${fatalReason(line)}` })),
    ]);
  } catch (err) {
    outcome = { ok: false, reason: r.redact((err as Error).message), err };
  } finally {
    waiting.abort();
    stopSignal.removeEventListener("abort", stopWaiting);
  }
  if (stopSignal.aborted) return { kind: "stopped", started };
  if (!outcome.ok) {
    // A hung engine after a fatal line, or a half-started container: nothing stays behind.
    await started.stop(5000);
    return {
      kind: "failed",
      reason: outcome.reason,
      details: failureDetails(outcome.err, tail.get(), started.logPath, r.redact),
    };
  }
  ready = true;
  if (outcome.models.length > 0 && !outcome.models.includes(r.model)) {
    r.logger.warn(
      { engine: slot.name, models: outcome.models },
      `engine serves ${outcome.models.join(", ")}, not ${r.model}`,
    );
  }
  const engine: LaunchedEngine = {
    url: started.url,
    name: slot.name,
    gpus: slot.gpus,
    kind: r.kind,
  };
  if (started.maxInFlight !== undefined) engine.maxInFlight = started.maxInFlight;
  if (started.loadBalanced !== undefined) engine.loadBalanced = started.loadBalanced;
  return { kind: "ready", started, engine };
}
