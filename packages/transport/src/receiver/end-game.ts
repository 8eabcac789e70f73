import type { ChannelWorker } from './channel-worker.js'

/**
 * A duplicate must be expected to arrive this many times sooner than the
 * copy in flight before it is worth asking for: a small margin would ask a
 * path to carry bytes that are about to arrive anyway.
 */
const MARGIN = 1.5

/**
 * The end of a transfer over paths of different speed: once no chunk is
 * missing, the last chunks are in flight on some path, and a slow path can
 * hold the whole fetch back by seconds. A channel with a free window asks
 * again for the chunks it would deliver clearly sooner than the channel that
 * holds them (each chunk at most once more); whichever copy verifies first
 * wins, the other is dropped on arrival. This is what keeps a multipath fetch
 * from finishing later than its fastest path alone.
 *
 * Estimates come from each channel's own meter: a queued chunk at rank r on
 * a channel with goodput g arrives in about r × chunk / g; on `worker` it
 * would take its round trip plus its own queue.
 */
export function endGame (worker: ChannelWorker, workers: readonly ChannelWorker[], chunkBytes: number, duplicated: ReadonlySet<number>): number[] {
  const free = worker.window - worker.inFlight
  const mine = worker.goodput
  if (free <= 0 || mine === undefined || mine <= 0) return []
  const candidates: Array<{ index: number, theirEtaMs: number }> = []
  for (const other of workers) {
    if (other === worker || other.state === 'closed') continue
    const theirs = other.goodput
    let rank = 0
    for (const index of other.requested) {
      rank++
      if (duplicated.has(index) || worker.requested.has(index)) continue
      const theirEtaMs = theirs === undefined || theirs <= 0 ? Number.POSITIVE_INFINITY : rank * chunkBytes * 1000 / theirs
      candidates.push({ index, theirEtaMs })
    }
  }
  // The copies that would arrive last first.
  candidates.sort((a, b) => b.theirEtaMs - a.theirEtaMs)
  const picked: number[] = []
  let queued = worker.inFlight
  for (const candidate of candidates) {
    if (picked.length >= free) break
    const myEtaMs = (worker.rttMs ?? 0) + (queued + 1) * chunkBytes * 1000 / mine
    if (myEtaMs * MARGIN >= candidate.theirEtaMs) break
    picked.push(candidate.index)
    queued++
  }
  return picked
}
