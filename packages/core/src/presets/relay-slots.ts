import { multiaddr } from '@multiformats/multiaddr'

/** A listen address that asks circuit-relay-v2 for one reservation on any relay it finds. */
export const CIRCUIT_LISTEN = '/p2p-circuit'

/**
 * The listen list with one `/p2p-circuit` per configured relay.
 *
 * circuit-relay-v2 makes one reservation per `/p2p-circuit` listen address
 * (each starts a search; a relay it is connected to that speaks the hop
 * protocol fills it), so a node listening on it once holds one reservation
 * however many relays it keeps connections to. A peer given the relays of
 * two instances must be reachable through both: when one instance dies, the
 * other's circuit address still reaches it, and its provider records still
 * name a live address. So a list that asks for relay reservations at all
 * (it has `/p2p-circuit`) gets as many as there are distinct relay peers.
 * Addresses naming a relay (`<relay>/p2p-circuit`) are left as they are.
 */
export function withRelaySlots (listen: string[], relays: string[]): string[] {
  const wanted = distinctPeers(relays)
  const have = listen.filter((a) => a === CIRCUIT_LISTEN).length
  if (have === 0 || have >= wanted) return listen
  return [...listen, ...Array.from({ length: wanted - have }, () => CIRCUIT_LISTEN)]
}

/** How many different peers (`/p2p/<id>`) the addresses name. */
function distinctPeers (addrs: string[]): number {
  const ids = new Set<string>()
  for (const a of addrs) {
    let id: string | undefined
    try {
      id = multiaddr(a).getComponents().findLast((c) => c.name === 'p2p')?.value
    } catch {
      // not a multiaddr: the relay keeper refuses it with a clear message
    }
    ids.add(id ?? a)
  }
  return ids.size
}
