/**
 * A token bucket: holds up to `capacity` tokens, refills `refillPerSecond`
 * tokens a second, and each message takes one. A bursty but well-behaved
 * client never notices it; a flooding one is held to the refill rate.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor (readonly capacity: number, readonly refillPerSecond: number, private readonly now: () => number = Date.now) {
    this.tokens = capacity
    this.last = now()
  }

  /** Takes one token; false when the bucket is empty. */
  take (): boolean {
    const t = this.now()
    const elapsed = t - this.last
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.refillPerSecond) / 1000)
      this.last = t
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
