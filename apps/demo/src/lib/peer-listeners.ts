/** Listeners for a peer's typed events, added together and removed together. */
import type { ChiralPeer, PeerEvents } from '@chiral/peer'

export type PeerHandlers = { [K in keyof PeerEvents]?: (event: PeerEvents[K]) => void }

/** Adds `handlers` to `peer`; returns the function that removes them. */
export function listen (peer: ChiralPeer<never>, handlers: PeerHandlers): () => void {
  const entries = Object.entries(handlers) as Array<[keyof PeerEvents, (event: CustomEvent) => void]>
  for (const [type, fn] of entries) peer.addEventListener(type, fn)
  return () => {
    for (const [type, fn] of entries) peer.removeEventListener(type, fn)
  }
}
