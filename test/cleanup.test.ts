// The job's one cleanup stack: releases run once, newest first, and a failing one does not stop
// the rest (runJob relies on each of these).
import { describe, expect, it } from "vitest";
import { Cleanup } from "../src/util/cleanup.js";

function logger() {
  const warnings: unknown[] = [];
  // Only warn is called; a pino Logger's other members are never reached.
  return { warnings, log: { warn: (o: unknown) => warnings.push(o) } as never };
}

describe("Cleanup", () => {
  it("runs every release once, in reverse order, awaiting each", async () => {
    const order: string[] = [];
    const c = new Cleanup();
    c.defer(() => order.push("first"));
    c.defer(async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push("second");
    });
    c.defer(() => order.push("third"));
    await c.dispose();
    await c.dispose();
    expect(order).toEqual(["third", "second", "first"]);
  });

  it("logs a failing release and still runs the ones before it", async () => {
    const { warnings, log } = logger();
    const order: string[] = [];
    const c = new Cleanup(log);
    c.defer(() => order.push("first"));
    c.defer(() => {
      throw new Error("close failed");
    });
    c.defer(() => Promise.reject(new Error("async close failed")));
    await c.dispose();
    expect(order).toEqual(["first"]);
    expect(warnings).toEqual([{ err: "async close failed" }, { err: "close failed" }]);
  });

  it("runs a release registered after dispose at once, so nothing acquired late leaks", async () => {
    const c = new Cleanup();
    await c.dispose();
    let ran = false;
    c.defer(() => {
      ran = true;
    });
    await Promise.resolve();
    expect(ran).toBe(true);
  });
});
