// Which failures are worth another attempt, and how long to wait. The runner is the only owner of
// retries: transports and the SDK never retry on their own (maxRetries: 0).

/**
 * HTTP statuses that may succeed on another attempt: timeouts, conflicts, rate limits, server
 * errors. Not 501: vLLM answers NotImplementedError with it (OpenAIServing.create_error_response),
 * which no second attempt changes.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status !== 501);
}

/**
 * Failures that say the engine itself is not there (as opposed to this one request failing): no
 * answer at all, or 503, which vLLM sends when its engine core is dead and a load balancer sends
 * when no replica is up. A 500 is usually one request's generation error: a row that always fails
 * must not take every engine out of the pool in turn.
 */
export function isEngineFailure(status: number | null): boolean {
  return status === null || status === 503;
}

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. @default 500 */
  baseMs: number;
  /** Longest delay between attempts. @default 30000 */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries of
 * rows that failed together spread out instead of arriving together again.
 * `attempt` is the number of attempts already made (1 after the first failure).
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const step = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return step / 2 + random() * (step / 2);
}

/** The wait before a retry: the server's Retry-After when it sent one (bounded), else backoff. */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | null,
  opts: BackoffOptions,
  random?: () => number,
): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, Math.max(opts.maxMs, 60_000));
  return backoffDelay(attempt, opts, random);
}
