export interface BackoffInit {
  /** Upper bound of the first retry's delay, ms (default 250). */
  initialDelay?: number
  /** Cap of the delay bound, ms (default 10,000). */
  maxDelay?: number
}

/**
 * "Full jitter" exponential backoff: the delay before retry `attempt`
 * (0-based) is uniform in [0, min(maxDelay, initialDelay · 2^attempt)).
 * Spreads a crowd of clients that lost the same server over the whole window.
 */
export function backoffDelay (attempt: number, init: BackoffInit = {}, random: () => number = Math.random): number {
  const initial = init.initialDelay ?? 250
  const max = init.maxDelay ?? 10_000
  const bound = Math.min(max, initial * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * bound)
}
