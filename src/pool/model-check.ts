// Before the first request: do the engines serve the models the input names? A file written for
// gpt-4o pointed at a vLLM serving Qwen would otherwise send every row and end with every row in
// the errors file. None served is refused (exit 2) with what the engines do serve; some served is
// said up front, and those rows end as the engine's 404, as vLLM's own run-batch records them.
import type { Logger } from "pino";
import { VbatchError } from "../errors.js";
import type { ModelUse } from "../job/ingest.js";

/** `--model-map FROM=TO` pairs to a map (FROM is the name in the input, TO one an engine serves). */
export function parseModelMap(pairs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const from = pair.slice(0, eq).trim();
    const to = pair.slice(eq + 1).trim();
    if (eq <= 0 || from === "" || to === "") {
      throw new VbatchError(
        "usage",
        `--model-map ${JSON.stringify(pair)}: expected FROM=TO, e.g. gpt-4o=Qwen/Qwen3-8B`,
      );
    }
    map.set(from, to);
  }
  return map;
}

export interface ModelCheck {
  /** Models the input names (after --model-map) that no engine serves, with their rows. */
  unserved: [string, ModelUse][];
  /** Rows that will reach a served model. */
  servedRows: number;
}

/** Compares the input's models (renamed by `map`) with what the engines serve. */
function compareModels(
  uses: Map<string, ModelUse>,
  served: ReadonlySet<string>,
  map: ReadonlyMap<string, string>,
): ModelCheck {
  const unserved: [string, ModelUse][] = [];
  let servedRows = 0;
  for (const [name, use] of uses) {
    if (served.has(map.get(name) ?? name)) servedRows += use.rows;
    else unserved.push([name, use]);
  }
  return { unserved, servedRows };
}

function describeUse([name, use]: [string, ModelUse], map: ReadonlyMap<string, string>): string {
  const renamed = map.get(name);
  const shown = renamed ? `${JSON.stringify(name)} (as ${JSON.stringify(renamed)})` : JSON.stringify(name);
  return `${shown}: ${use.rows} row${use.rows === 1 ? "" : "s"}, first on line ${use.firstLine}`;
}

/**
 * Throws (exit 2) when no row would reach a model an engine serves; warns when some would not.
 * `uses` is null for a journal that did not record its models (nothing to check); an empty
 * `served` (a server that lists no models) is not checked either.
 */
export function checkModels(
  uses: Map<string, ModelUse> | null,
  rowsWithoutModel: number,
  served: ReadonlySet<string>,
  map: ReadonlyMap<string, string>,
  log?: Logger,
): void {
  if (uses === null || served.size === 0 || uses.size === 0) return;
  const { unserved, servedRows } = compareModels(uses, served, map);
  if (unserved.length === 0) return;
  const servedList = [...served].map((m) => JSON.stringify(m)).join(", ");
  const listed = unserved.slice(0, 5).map((u) => describeUse(u, map));
  if (unserved.length > 5) listed.push(`... and ${unserved.length - 5} more models`);
  if (servedRows === 0 && rowsWithoutModel === 0) {
    const [first] = unserved[0] as [string, ModelUse];
    throw new VbatchError(
      "usage",
      `no engine serves the model${unserved.length === 1 ? "" : "s"} this input names; the engines serve ${servedList}. Nothing was sent. Rename with --model-map ${JSON.stringify(first)}=<served model>, or point -e at an engine that serves it.`,
      { details: listed },
    );
  }
  const rows = unserved.reduce((n, [, u]) => n + u.rows, 0);
  log?.warn(
    { rows, models: listed, served: [...served] },
    `${rows} rows name a model no engine serves; they will end in the errors file with the engine's 404 (--model-map renames a model)`,
  );
}
