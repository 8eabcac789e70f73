import { InvalidArgumentError } from '@chiral/core'

/** Where one chunk of a transfer stands. */
export type ChunkState = 'missing' | 'in-flight' | 'verified'

const MISSING = 0
const IN_FLIGHT = 1
const VERIFIED = 2

/**
 * Owns which chunks of a transfer are verified, in flight or missing. Channel
 * workers pull work from it; it does not know about channels.
 *
 *            take()               complete()
 *   missing ────────► in-flight ────────────► verified
 *      ▲                  │
 *      └──────────────────┘ release() (channel gone) / reject() (bad data: counts an attempt)
 *
 * `take()` hands out the lowest missing index first, so chunks returned to
 * "missing" are fetched again before new ones and a file fills front to back.
 */
export class ChunkScheduler {
  readonly count: number
  private readonly states: Uint8Array
  private readonly attempts = new Map<number, number>()
  /** Missing indices below `cursor`, sorted ascending. */
  private returned: number[] = []
  /** Every index ≥ cursor that is missing has never been handed out. */
  private cursor = 0
  private verified = 0
  private inFlight = 0

  constructor (count: number) {
    if (!Number.isSafeInteger(count) || count < 0) throw new InvalidArgumentError(`Bad chunk count ${count}`)
    this.count = count
    this.states = new Uint8Array(count)
  }

  get verifiedCount (): number { return this.verified }
  get inFlightCount (): number { return this.inFlight }
  get missingCount (): number { return this.count - this.verified - this.inFlight }
  /** True once every chunk is verified. */
  get done (): boolean { return this.verified === this.count }

  state (index: number): ChunkState {
    this.check(index)
    const s = this.states[index]
    return s === VERIFIED ? 'verified' : s === IN_FLIGHT ? 'in-flight' : 'missing'
  }

  /** Verified indices, ascending. */
  * verifiedIndices (): Generator<number> {
    for (let i = 0; i < this.count; i++) if (this.states[i] === VERIFIED) yield i
  }

  /** Marks chunks that are already held (resume). Only missing chunks change. */
  markVerified (index: number): void {
    this.check(index)
    if (this.states[index] !== MISSING) return
    this.states[index] = VERIFIED
    this.verified++
    const at = this.returned.indexOf(index)
    if (at >= 0) this.returned.splice(at, 1)
  }

  /** The lowest missing chunk, now in flight; undefined when none is missing. */
  take (): number | undefined {
    const back = this.returned.shift()
    if (back !== undefined) {
      this.states[back] = IN_FLIGHT
      this.inFlight++
      return back
    }
    while (this.cursor < this.count && this.states[this.cursor] !== MISSING) this.cursor++
    if (this.cursor >= this.count) return undefined
    const index = this.cursor++
    this.states[index] = IN_FLIGHT
    this.inFlight++
    return index
  }

  /** An in-flight chunk arrived and verified. Returns false when it was not in flight (a late duplicate). */
  complete (index: number): boolean {
    this.check(index)
    if (this.states[index] === VERIFIED) return false
    if (this.states[index] === IN_FLIGHT) this.inFlight--
    else this.removeReturned(index)
    this.states[index] = VERIFIED
    this.verified++
    return true
  }

  /** An in-flight chunk will not arrive (its channel closed): missing again, no attempt counted. */
  release (index: number): void {
    this.check(index)
    if (this.states[index] !== IN_FLIGHT) return
    this.toMissing(index)
  }

  /** An in-flight chunk arrived with bad bytes: missing again. Returns how many bad copies it has had. */
  reject (index: number): number {
    this.check(index)
    const n = (this.attempts.get(index) ?? 0) + 1
    this.attempts.set(index, n)
    if (this.states[index] === IN_FLIGHT) this.toMissing(index)
    return n
  }

  private toMissing (index: number): void {
    this.states[index] = MISSING
    this.inFlight--
    if (index >= this.cursor) return
    let lo = 0
    let hi = this.returned.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.returned[mid] as number) < index) lo = mid + 1
      else hi = mid
    }
    this.returned.splice(lo, 0, index)
  }

  private removeReturned (index: number): void {
    const at = this.returned.indexOf(index)
    if (at >= 0) this.returned.splice(at, 1)
  }

  private check (index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.count) {
      throw new InvalidArgumentError(`Chunk index ${index} is out of range (0..${this.count - 1})`)
    }
  }
}
