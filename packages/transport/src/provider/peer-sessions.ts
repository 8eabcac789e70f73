/**
 * Counts the open sessions of each remote peer, so one peer (across all its
 * connections and paths) cannot take more than `max` of a provider's sessions.
 */
export class PeerSessions {
  private readonly counts = new Map<string, number>()
  private readonly max: number

  constructor (max: number) {
    this.max = max
  }

  /** Takes a slot for `peerId`; false when it already holds `max`. */
  acquire (peerId: string): boolean {
    const count = this.counts.get(peerId) ?? 0
    if (count >= this.max) return false
    this.counts.set(peerId, count + 1)
    return true
  }

  release (peerId: string): void {
    const count = this.counts.get(peerId) ?? 0
    if (count <= 1) this.counts.delete(peerId)
    else this.counts.set(peerId, count - 1)
  }

  /** Sessions `peerId` holds now. */
  count (peerId: string): number {
    return this.counts.get(peerId) ?? 0
  }
}
