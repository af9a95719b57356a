// Which models the engines serve, so rows naming a hosted model ("gpt-4o-mini", "claude-haiku")
// can be sent to the self-hosted one: that is what lets client code run unchanged.
import { normalizeEndpoint } from "../../client/endpoint.js";
import { isPlainObject } from "../../input/row.js";

export class NoEngineError extends Error {}

/** Model ids from every engine that answers GET /v1/models; throws NoEngineError when none does. */
export async function servedModels(
  endpoints: string[],
  apiKey: string | undefined,
  signal: AbortSignal,
): Promise<string[]> {
  const ids = new Set<string>();
  let answered = 0;
  const problems: string[] = [];
  await Promise.all(
    endpoints.map(async (e) => {
      const base = normalizeEndpoint(e);
      try {
        const res = await fetch(`${base}/v1/models`, {
          headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
          signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
        });
        const json: unknown = await res.json();
        if (!res.ok) throw new Error(`answered ${res.status}`);
        answered++;
        const data = isPlainObject(json) && Array.isArray(json.data) ? json.data : [];
        for (const m of data) if (isPlainObject(m) && typeof m.id === "string") ids.add(m.id);
      } catch (err) {
        problems.push(`${base}: ${(err as Error).message}`);
      }
    }),
  );
  if (answered === 0) throw new NoEngineError(`no engine reachable (${problems.join("; ")})`);
  return [...ids];
}

/** How a row's model is rewritten: kept when served, else the fallback (if there is one). */
export interface ModelMap {
  served: Set<string>;
  fallback: string | undefined;
}

export function modelMap(served: string[], requested: string | undefined): ModelMap {
  return {
    served: new Set(served),
    fallback: requested ?? (served.length === 1 ? served[0] : undefined),
  };
}

/** The model to send for a row's model, or undefined to leave the row as it is. */
export function mapModel(map: ModelMap, model: unknown): string | undefined {
  if (typeof model === "string" && map.served.has(model)) return undefined;
  return map.fallback;
}
