/**
 * What one channel delivers: goodput (verified chunk bytes per second of
 * *busy* time, over a sliding window) and round-trip time (request sent to the
 * first piece of that chunk, minimum seen).
 *
 * Busy time, not wall time: a path that was paused or had nothing to carry
 * for a while still shows what it can do when it has work. Each delivery
 * counts the time since the later of (the previous delivery, the chunk's
 * request): on a pipelined path that is the gap between completions, on an
 * idle path it includes one round trip.
 *
 * ```
 *   request(i) ─────────── first piece ────── … ───── delivered(i)
 *   │◄──── rtt sample ────►│                          │
 *   prev delivery ─────────────────────────────────────┤ busy interval → goodput sample
 * ```
 */
export class GoodputMeter {
  private readonly windowMs: number
  private readonly requestedAt = new Map<number, number>()
  private readonly firstPieceSeen = new Set<number>()
  private samples: Array<{ at: number, bytes: number, ms: number }> = []
  private lastDeliveryAt = 0
  private minRtt?: number
  private deliveredChunks = 0
  private deliveredBytes = 0

  constructor (windowMs = 3000) {
    this.windowMs = windowMs
  }

  /** Chunk `index` was requested on this channel. */
  requested (index: number, now = Date.now()): void {
    this.requestedAt.set(index, now)
    this.firstPieceSeen.delete(index)
  }

  /** The first bytes of chunk `index` arrived. */
  firstPiece (index: number, now = Date.now()): void {
    const at = this.requestedAt.get(index)
    if (at === undefined || this.firstPieceSeen.has(index)) return
    this.firstPieceSeen.add(index)
    const rtt = now - at
    this.minRtt = this.minRtt === undefined ? rtt : Math.min(this.minRtt, rtt)
  }

  /** All `bytes` of chunk `index` arrived (verified or not: the path carried them). */
  delivered (index: number, bytes: number, now = Date.now()): void {
    const requestedAt = this.requestedAt.get(index) ?? now
    this.requestedAt.delete(index)
    this.firstPieceSeen.delete(index)
    const from = Math.max(requestedAt, this.lastDeliveryAt)
    this.lastDeliveryAt = now
    this.deliveredChunks++
    this.deliveredBytes += bytes
    this.samples.push({ at: now, bytes, ms: Math.max(1, now - from) })
    const cutoff = now - this.windowMs
    // Keep at least two samples so a slow path (one chunk per window) still has a rate.
    while (this.samples.length > 2 && (this.samples[0] as { at: number }).at < cutoff) this.samples.shift()
  }

  /** A chunk requested here will not come (channel closing, chunk given elsewhere). */
  forget (index: number): void {
    this.requestedAt.delete(index)
    this.firstPieceSeen.delete(index)
  }

  /** Bytes per second while busy, over the window; undefined before the first delivery. */
  get goodput (): number | undefined {
    if (this.samples.length === 0) return undefined
    let bytes = 0
    let ms = 0
    for (const s of this.samples) { bytes += s.bytes; ms += s.ms }
    return Math.round(bytes * 1000 / ms)
  }

  /** Smallest request-to-first-byte time seen, ms. */
  get rttMs (): number | undefined {
    return this.minRtt
  }

  /** Chunks delivered so far. */
  get chunks (): number {
    return this.deliveredChunks
  }

  get bytes (): number {
    return this.deliveredBytes
  }

  /**
   * When the channel started on the chunk at its head: the later of the
   * oldest of `outstanding`'s requests and the previous delivery (the
   * provider answers in order). Undefined when none is outstanding.
   */
  headStartedAt (outstanding: Iterable<number>): number | undefined {
    let oldest: number | undefined
    for (const index of outstanding) {
      const at = this.requestedAt.get(index)
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at
    }
    return oldest === undefined ? undefined : Math.max(oldest, this.lastDeliveryAt)
  }

  /** How long the oldest outstanding request has waited, ms (0 when none). */
  oldestWaitMs (now = Date.now()): number {
    let oldest = now
    for (const at of this.requestedAt.values()) if (at < oldest) oldest = at
    return now - oldest
  }
}
