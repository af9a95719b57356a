// --priority against an engine that does not schedule by priority would fail every row with the
// same 400. vLLM refuses a non-zero priority unless started with --scheduling-policy priority: its
// engine raises ValueError("Got priority {p} but Priority scheduling is not enabled."), which the
// API server answers with 400 (vllm/engine/llm_engine.py and async_llm_engine.py in V0, the V1
// engine's input processing since; the simulator answers with the same text). One cheap request
// per engine, before any row, finds it.
import { VbatchError } from "../errors.js";
import { errorMessage } from "../formats/openai-reply.js";
import type { Engine } from "./engine.js";

/** True when an engine's answer is vLLM's refusal of priorities. */
function refusesPriority(status: number, body: string): string | null {
  if (status !== 400) return null;
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(body);
  } catch {
    // not JSON: not vLLM's refusal
  }
  const message = errorMessage(parsed, body);
  return /priority/i.test(message) && /not enabled|scheduling/i.test(message) ? message : null;
}

/**
 * Sends each engine a one-token completion with `priority` and refuses the job (exit 2) when one
 * answers that it does not schedule by priority. Any other answer, or none, is left to the run.
 */
export async function checkPriority(engines: Engine[], priority: number | undefined): Promise<void> {
  if (priority === undefined || priority === 0) return;
  const refusals = await Promise.all(
    engines.map(async (e) => {
      const body = { model: e.models[0]?.id, prompt: "priority check", max_tokens: 1, priority };
      try {
        const r = await e.transport.send({
          path: "/v1/completions",
          body: JSON.stringify(body),
          requestId: "vbatch-priority-check",
        });
        const message = refusesPriority(r.status, r.body);
        return message === null ? null : { engine: e.base, message };
      } catch {
        return null;
      }
    }),
  );
  const refused = refusals.find((r) => r !== null);
  if (refused) {
    throw new VbatchError(
      "usage",
      `--priority ${priority}: engine ${refused.engine} does not schedule by priority (it answered: ${refused.message}); start vLLM with --scheduling-policy priority, or drop --priority`,
    );
  }
}
