/** Bytes per second over a sliding time window. */
export class RateMeter {
  private readonly windowMs: number
  private readonly samples: Array<{ at: number, bytes: number }> = []
  private total = 0
  private readonly startedAt: number

  constructor (windowMs = 2000, now = Date.now()) {
    this.windowMs = windowMs
    this.startedAt = now
  }

  add (bytes: number, now = Date.now()): void {
    this.total += bytes
    this.samples.push({ at: now, bytes: this.total })
    while (this.samples.length > 2 && (this.samples[0] as { at: number }).at < now - this.windowMs) this.samples.shift()
  }

  /** Current rate in bytes per second. */
  rate (now = Date.now()): number {
    const first = this.samples[0]
    if (first == null) return 0
    const base = this.samples.length > 1 ? first : { at: this.startedAt, bytes: 0 }
    const elapsed = Math.max(1, now - base.at)
    return Math.round(((this.total - base.bytes) * 1000) / elapsed)
  }
}
