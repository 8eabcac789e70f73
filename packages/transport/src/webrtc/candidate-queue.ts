import { candidateFromWire } from './sdp.js'
import type { IceCandidate } from '@chiral/core'

/**
 * Holds remote ICE candidates until the remote description is set, then
 * applies them in arrival order; later ones are applied at once. Trickled
 * candidates may overtake the offer/answer (another signaling route, a
 * slower hop): they are queued, never dropped.
 *
 * A `null` candidate (end of candidates) is passed on as such.
 *
 * `onApplied` runs after each candidate has been handed to the peer
 * connection (for `null` as soon as it is passed on), whether or not the
 * peer connection took it: from then on ICE may be checking it.
 */
export class CandidateQueue {
  private readonly pending: Array<IceCandidate | null> = []
  private ready = false
  private readonly onError: (err: unknown) => void
  private readonly onApplied: (candidate: IceCandidate | null) => void

  constructor (private readonly pc: RTCPeerConnection, onError: (err: unknown) => void, onApplied: (candidate: IceCandidate | null) => void = () => {}) {
    this.onError = onError
    this.onApplied = onApplied
  }

  /** How many candidates wait for the remote description. */
  get size (): number {
    return this.pending.length
  }

  add (candidate: IceCandidate | null): void {
    if (!this.ready) {
      this.pending.push(candidate)
      return
    }
    this.apply(candidate)
  }

  /** Call once the remote description is set: applies everything queued. */
  flush (): void {
    this.ready = true
    for (const candidate of this.pending.splice(0)) this.apply(candidate)
  }

  private apply (candidate: IceCandidate | null): void {
    if (candidate == null) {
      // End of candidates: optional; some implementations reject it.
      this.pc.addIceCandidate().catch(() => {})
      this.onApplied(null)
      return
    }
    if (candidate.candidate === '') return
    this.pc.addIceCandidate(candidateFromWire(candidate))
      .catch(this.onError)
      .finally(() => { this.onApplied(candidate) })
  }
}
