import { ProviderStalledError } from '../errors.js'
import type { ChannelWorker } from './channel-worker.js'

/** When a channel that owes data counts as stalled (receiver settings). */
export interface StallInit {
  /**
   * Least time a channel may send nothing, or spend on one chunk (or on
   * opening its session), before it is dropped, ms (default 5 s).
   */
  stallFloor?: number
  /** A chunk may take this many times what the channel's measured goodput says it should (default 4). */
  stallFactor?: number
  /**
   * Slowest rate worth waiting for, bytes/s (default 8 KiB/s): no chunk (or
   * manifest) is waited for longer than it takes at this rate, whatever the
   * channel measured. A provider that trickles a few bytes to look alive is
   * dropped by this.
   */
  minRate?: number
}

export const DEFAULT_STALL_FLOOR = 5000
export const DEFAULT_STALL_FACTOR = 4
export const DEFAULT_MIN_RATE = 8 * 1024

/**
 * Decides, from a channel's own numbers, whether a provider is still
 * delivering what it owes. Three rules, each against the channel itself:
 *
 * - **silent**: nothing arrived for `stallFloor` while the channel owes the
 *   manifest (or `Ready`) or a chunk; covers a provider that keeps the
 *   channel open and stops, mid-manifest or mid-chunk.
 * - **slow chunk**: the chunk at the head of the channel (the provider
 *   answers in order) has been under way, since its request or the
 *   previous delivery, for longer than
 *   `max(stallFloor, min(stallFactor × chunk / goodput, chunk / minRate))`.
 *   Bytes that trickle in do not reset it: only whole chunks count.
 * - **slow manifest**: the session has been opening for longer than
 *   `max(stallFloor, manifest / minRate)`.
 *
 * A path that is merely slow keeps its chunks: its goodput sets its own
 * deadline. Paused channels are judged too (their chunks in flight still
 * have to arrive).
 */
export class StallWatch {
  private readonly floor: number
  private readonly factor: number
  private readonly minRate: number
  private readonly seen = new Map<number, { received: number, at: number }>()

  constructor (init: StallInit = {}) {
    this.floor = Math.max(1, init.stallFloor ?? DEFAULT_STALL_FLOOR)
    this.factor = Math.max(1, init.stallFactor ?? DEFAULT_STALL_FACTOR)
    this.minRate = Math.max(1, init.minRate ?? DEFAULT_MIN_RATE)
  }

  /** How often to call `check()`, ms. */
  get interval (): number {
    return Math.max(50, Math.min(500, this.floor / 5))
  }

  /** Why `worker` should be dropped now, or undefined while it keeps up. `chunkBytes`: the manifest's chunk size (0 before it). */
  check (worker: ChannelWorker, chunkBytes: number, now = Date.now()): ProviderStalledError | undefined {
    if (worker.state === 'closed') {
      this.seen.delete(worker.id)
      return undefined
    }
    const opening = worker.state === 'opening'
    const owes = opening || worker.requested.size > 0
    const received = worker.received
    const seen = this.seen.get(worker.id)
    if (seen === undefined) {
      this.seen.set(worker.id, { received, at: opening ? worker.attachedAt : now })
    } else if (!owes || seen.received !== received) {
      this.seen.set(worker.id, { received, at: now })
    }
    if (!owes) return undefined
    const silentMs = now - (this.seen.get(worker.id) as { at: number }).at
    if (silentMs >= this.floor) {
      const owed = opening ? 'the manifest (or Ready)' : `${worker.requested.size} chunks`
      return new ProviderStalledError(`Provider on ${worker.label} sent nothing for ${silentMs} ms while it owed ${owed}`)
    }
    if (opening) {
      const openMs = now - worker.attachedAt
      const allowed = Math.max(this.floor, worker.manifestTotal * 1000 / this.minRate)
      if (openMs > allowed) {
        return new ProviderStalledError(`Provider on ${worker.label} took over ${Math.round(allowed)} ms to send a ${worker.manifestTotal}-byte manifest`)
      }
      return undefined
    }
    const since = worker.meter.headStartedAt(worker.requested)
    if (since === undefined || chunkBytes <= 0) return undefined
    const waitMs = now - since
    const allowed = this.allowedMs(chunkBytes, worker.goodput)
    if (waitMs > allowed) {
      const rate = worker.goodput === undefined ? 'no chunk yet' : `goodput ${worker.goodput} B/s`
      return new ProviderStalledError(`Provider on ${worker.label} spent ${waitMs} ms on one chunk (${rate}; allowed ${Math.round(allowed)} ms)`)
    }
    return undefined
  }

  /** The longest a chunk of `bytes` may take on a channel measured at `goodput`. */
  allowedMs (bytes: number, goodput: number | undefined): number {
    const atMinRate = bytes * 1000 / this.minRate
    const expected = goodput === undefined || goodput <= 0 ? atMinRate : Math.min(this.factor * bytes * 1000 / goodput, atMinRate)
    return Math.max(this.floor, expected)
  }
}
