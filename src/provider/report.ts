// What a provider job reports (the run's summary, `vbatch status`): its batches by status, the
// provider's request counts, the provider's token counts and their cost at the batch price
// (--price, or the dated table in src/tools/prices.ts for the job's one model), and a warning for
// each ended batch whose results were not downloaded and are near the end of their retention.
import type { Journal } from "../journal/journal.js";
import { BATCH_PRICES, PRICES_AS_OF } from "../tools/prices.js";

export const PROVIDER_META = "provider";

/** USD per million tokens, batch tier. */
export interface BatchPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** What the journal keeps of the provider a job was sent to (never its key). */
export interface ProviderRecord {
  name: string;
  url: string;
  /** The job's one model, when it has one (for the price table). */
  model: string | null;
  price: BatchPrice | null;
  /** How long the provider keeps a batch's results, in seconds. */
  retentionSec: number;
}

export interface ProviderSummary {
  name: string;
  url: string;
  batches: number;
  /** Batches by the provider's last status. */
  statuses: Record<string, number>;
  /** The provider's request counts, summed over the batches. */
  requestCounts: Record<string, number>;
  promptTokens: number;
  completionTokens: number;
  /** The price used and where it came from; null when none is known (pass --price). */
  price: (BatchPrice & { source: string }) | null;
  cost: number | null;
  warnings: string[];
}

/** "0.075/0.3": USD per million input / output tokens; undefined when malformed. */
export function parsePrice(text: string): BatchPrice | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  return m ? { inputPerMillion: Number(m[1]), outputPerMillion: Number(m[2]) } : undefined;
}

export function priceFor(rec: Pick<ProviderRecord, "name" | "model" | "price">): ProviderSummary["price"] {
  if (rec.price) return { ...rec.price, source: "--price" };
  const p = BATCH_PRICES.find((x) => x.provider === rec.name && x.model === rec.model);
  return p
    ? {
        inputPerMillion: p.inputPerMillion,
        outputPerMillion: p.outputPerMillion,
        source: `table of ${PRICES_AS_OF}`,
      }
    : null;
}

export function costOf(price: BatchPrice, prompt: number, completion: number): number {
  return (prompt / 1e6) * price.inputPerMillion + (completion / 1e6) * price.outputPerMillion;
}

const DAY = 86_400_000;

export function providerSummary(journal: Journal, now = Date.now()): ProviderSummary | null {
  const text = journal.getMeta(PROVIDER_META);
  if (text === undefined) return null;
  const rec = JSON.parse(text) as ProviderRecord;
  const s: ProviderSummary = {
    name: rec.name,
    url: rec.url,
    batches: 0,
    statuses: {},
    requestCounts: {},
    promptTokens: 0,
    completionTokens: 0,
    price: priceFor(rec),
    cost: null,
    warnings: [],
  };
  for (const c of journal.batches().chunks()) {
    if (!c.batchId) continue;
    s.batches++;
    const status = c.status ?? "unknown";
    s.statuses[status] = (s.statuses[status] ?? 0) + 1;
    for (const [k, v] of Object.entries(c.counts ?? {})) s.requestCounts[k] = (s.requestCounts[k] ?? 0) + v;
    s.promptTokens += c.promptTokens;
    s.completionTokens += c.completionTokens;
    const left = c.endedAt === null ? null : c.endedAt + rec.retentionSec * 1000 - now;
    if (c.state !== "done" && left !== null && left < 3 * DAY) {
      s.warnings.push(
        `batch ${c.batchId} (chunk ${c.chunk}) ended ${new Date(c.endedAt as number).toISOString()} and its results were not downloaded: the provider keeps them ${left > 0 ? `${(left / DAY).toFixed(1)} more days` : "no longer"}; run the same command to download them`,
      );
    }
  }
  if (s.price) s.cost = costOf(s.price, s.promptTokens, s.completionTokens);
  return s;
}
