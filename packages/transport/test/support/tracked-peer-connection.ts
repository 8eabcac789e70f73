/**
 * Wraps an RTCPeerConnection constructor to count what tests need to prove
 * "no leaks": connections created, connections never closed, and remote
 * candidates each one accepted.
 */
import type { RTCPeerConnectionConstructor } from '../../src/webrtc/peer-connection.js'

export interface PeerConnectionTracker {
  RTCPeerConnection: RTCPeerConnectionConstructor
  /** Connections created so far. */
  created(): number
  /** Connections created and not (yet) closed. */
  unclosed(): number
  /** Remote candidates accepted by `addIceCandidate`, per connection, in creation order. */
  candidatesAdded(): number[]
}

export function trackPeerConnections (Base: RTCPeerConnectionConstructor): PeerConnectionTracker {
  const all: Array<{ pc: RTCPeerConnection, closed: boolean, added: number }> = []
  const Tracked = function (configuration?: RTCConfiguration): RTCPeerConnection {
    const pc = new Base(configuration)
    const entry = { pc, closed: false, added: 0 }
    all.push(entry)
    const close = pc.close.bind(pc)
    const addIceCandidate = pc.addIceCandidate.bind(pc)
    pc.close = () => { entry.closed = true; close() }
    pc.addIceCandidate = async (candidate?: RTCIceCandidateInit | null) => {
      await addIceCandidate(candidate ?? undefined)
      if (candidate?.candidate != null && candidate.candidate !== '') entry.added++
    }
    return pc
  } as unknown as RTCPeerConnectionConstructor
  return {
    RTCPeerConnection: Tracked,
    created: () => all.length,
    unclosed: () => all.filter(e => !e.closed).length,
    candidatesAdded: () => all.map(e => e.added)
  }
}
