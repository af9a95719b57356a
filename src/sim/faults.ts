// Fault injection for the simulator: each arriving request draws from a seeded PRNG, so a run with
// the same seed and arrival order fails the same requests again.

import type { SimFaults } from "./types.js";

export type FaultKind = "none" | "drop" | "error" | "rateLimit";

export interface ResolvedFaults {
  errorRate: number;
  rateLimitRate: number;
  retryAfterSeconds: number;
  dropRate: number;
}

/** mulberry32: tiny, fast and good enough to spread faults evenly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rate(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`${name} must be a number between 0 and 1, got ${String(value)}`);
  }
  return value;
}

export function resolveFaults(f: SimFaults = {}): ResolvedFaults {
  const errorRate = rate("errorRate", f.errorRate);
  const rateLimitRate = rate("rateLimitRate", f.rateLimitRate);
  const dropRate = rate("dropRate", f.dropRate);
  if (errorRate + rateLimitRate + dropRate > 1 + 1e-9) {
    throw new RangeError("errorRate + rateLimitRate + dropRate must not exceed 1");
  }
  const retryAfterSeconds = f.retryAfterSeconds ?? 1;
  if (typeof retryAfterSeconds !== "number" || !Number.isFinite(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw new RangeError(`retryAfterSeconds must be a number >= 0, got ${String(f.retryAfterSeconds)}`);
  }
  return { errorRate, rateLimitRate, retryAfterSeconds, dropRate };
}

export class FaultPlan {
  private faults: ResolvedFaults;
  private readonly random: () => number;

  constructor(seed: number, faults?: SimFaults) {
    this.random = mulberry32(seed);
    this.faults = resolveFaults(faults);
  }

  set(f: SimFaults): void {
    this.faults = resolveFaults(f);
  }

  get current(): ResolvedFaults {
    return { ...this.faults };
  }

  get retryAfterSeconds(): number {
    return this.faults.retryAfterSeconds;
  }

  /** One draw per request, and none at all while no fault is configured (the benchmark path). */
  decide(): FaultKind {
    const { dropRate, errorRate, rateLimitRate } = this.faults;
    if (dropRate === 0 && errorRate === 0 && rateLimitRate === 0) return "none";
    const r = this.random();
    if (r < dropRate) return "drop";
    if (r < dropRate + errorRate) return "error";
    if (r < dropRate + errorRate + rateLimitRate) return "rateLimit";
    return "none";
  }
}
