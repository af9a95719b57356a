// How the batch loop reads a failed call: transient ones are tried again at the next poll, the
// others end the job with one line naming the provider and the step.
import { VbatchError } from "../errors.js";
import type { ProviderApi } from "./api.js";

/** Transient: no HTTP answer, or one worth asking again (408, 409, 429, 5xx). */
export function transient(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  return typeof status !== "number" || status === 408 || status === 409 || status === 429 || status >= 500;
}

export function fatal(api: ProviderApi, what: string, err: unknown): VbatchError {
  return new VbatchError("engine_unavailable", `provider ${api.name}: ${what}: ${(err as Error).message}`, {
    cause: err,
  });
}
