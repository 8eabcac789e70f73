export interface HttpRateLimitInit {
  /** Requests per second per source address, sustained. */
  perSecond: number
  /** Requests one address may make at once (default twice `perSecond`). */
  burst?: number
  /** Addresses tracked at most; beyond, idle ones are forgotten first (default 10,000). */
  maxAddresses?: number
}

export interface HttpRateLimit {
  /** Takes one request from the address's budget; false when it has none left. */
  allow: (address: string, now?: number) => boolean
  /** Addresses tracked now. */
  size: () => number
}

/**
 * A token bucket per source address, for /health and /metrics: they are
 * unauthenticated, so one client must not be able to keep the node busy
 * answering them. Behind a reverse proxy every request comes from the proxy's
 * address (forwarded-for headers are not trusted): the limit is then shared.
 */
export function createHttpRateLimit (init: HttpRateLimitInit): HttpRateLimit {
  const perMs = init.perSecond / 1000
  const burst = init.burst ?? init.perSecond * 2
  const maxAddresses = init.maxAddresses ?? 10_000
  const buckets = new Map<string, { tokens: number, at: number }>()

  const refill = (b: { tokens: number, at: number }, now: number): void => {
    b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs)
    b.at = now
  }

  /** Forgets addresses whose bucket is full again (they lose nothing), then the longest-known ones. */
  const prune = (now: number): void => {
    for (const [address, b] of buckets) {
      refill(b, now)
      if (b.tokens >= burst) buckets.delete(address)
    }
    for (const address of buckets.keys()) {
      if (buckets.size < maxAddresses) break
      buckets.delete(address)
    }
  }

  return {
    allow (address, now = Date.now()) {
      let b = buckets.get(address)
      if (b === undefined) {
        if (buckets.size >= maxAddresses) prune(now)
        b = { tokens: burst, at: now }
        buckets.set(address, b)
      } else {
        refill(b, now)
      }
      if (b.tokens < 1) return false
      b.tokens--
      return true
    },
    size: () => buckets.size
  }
}
