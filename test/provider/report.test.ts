// What a provider job's journal reports without the provider: batches, counts, cost, and the
// warning for an ended batch whose results were never downloaded and are near their retention.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal } from "../../src/journal/journal.js";
import { parsePrice, providerSummary } from "../../src/provider/report.js";
import { tempDir } from "../helpers/files.js";

const dir = tempDir("vbatch-provider-report-");
const DAY = 86_400_000;

describe("provider report", () => {
  it("warns of ended, undownloaded batches near the end of retention, and prices the tokens", () => {
    const journal = new Journal(join(dir, "a.vbatch.db"));
    journal.ingest(
      [1, 2, 3].map((line) => ({ line, customId: `r${line}`, fp: 0 })),
      [],
    );
    const meta = {
      name: "anthropic",
      url: "u",
      model: "m",
      price: { inputPerMillion: 1, outputPerMillion: 2 },
      retentionSec: 29 * 86_400,
    };
    journal.setMeta({ provider: JSON.stringify(meta) });
    const ledger = journal.batches();
    const now = Date.now();
    for (const [lines, endedDaysAgo, done] of [
      [[1], 27, false],
      [[2], 10, false],
      [[3], 28, true],
    ] as const) {
      const c = ledger.plan("anthropic", "/v1/chat/completions", [...lines], 10);
      ledger.setFile(c, null);
      ledger.setBatch(c, `msgbatch_${c}`, "in_progress");
      ledger.setStatus(c, { status: "ended", counts: { succeeded: 1 }, endedAt: now - endedDaysAgo * DAY });
      ledger.addTokens(c, 1_000_000, 500_000);
      if (done) ledger.finish(c, null, false);
    }
    const s = providerSummary(journal, now);
    journal.close();
    expect(s).toMatchObject({
      batches: 3,
      statuses: { ended: 3 },
      requestCounts: { succeeded: 3 },
      cost: 3 * (1 + 1),
    });
    expect(s?.warnings).toHaveLength(1);
    expect(s?.warnings[0]).toMatch(
      /msgbatch_1 \(chunk 1\).*not downloaded.*2\.0 more days; run the same command/,
    );
  });

  it("reads --price as USD per million input / output tokens", () => {
    expect(parsePrice("0.075/0.3")).toEqual({ inputPerMillion: 0.075, outputPerMillion: 0.3 });
    expect(parsePrice("cheap")).toBeUndefined();
  });
});
