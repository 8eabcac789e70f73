import { isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** True for a circuit-relay connection (its remote address goes through `/p2p-circuit`). */
export function isRelayed (connection: Pick<Connection, 'remoteAddr'>): boolean {
  return connection.remoteAddr.getComponents().some((c) => c.name === 'p2p-circuit')
}

/** `/ip4|ip6/<ip>/tcp/<port>` with at most a trailing `/p2p/<peer>`: a plain TCP address (no WebSockets, no relay). */
export function isPlainTcp (addr: Multiaddr): boolean {
  const parts = addr.getComponents()
  if (parts.length < 2 || (parts[0]?.name !== 'ip4' && parts[0]?.name !== 'ip6') || parts[1]?.name !== 'tcp') return false
  return parts.slice(2).every((c) => c.name === 'p2p')
}

/** A direct TCP connection (what a hole punch, or a dial to a TCP listener, gives). */
export function isDirectTcp (connection: Pick<Connection, 'remoteAddr'>): boolean {
  return isPlainTcp(connection.remoteAddr)
}

/** The address without its `/p2p/…` parts. */
export function withoutPeer (addr: Multiaddr): Multiaddr {
  return multiaddr(addr.getComponents().filter((c) => c.name !== 'p2p'))
}

/**
 * The addresses of a peer's DCUtR CONNECT message this node can dial for a
 * hole punch: plain TCP, public ones only unless `allowPrivate` (labs, LANs),
 * each ending in `/p2p/<peer>`, without duplicates. Unparseable ones are skipped.
 */
export function punchableAddresses (raw: Uint8Array[], peerId: string, allowPrivate: boolean): Multiaddr[] {
  const out = new Map<string, Multiaddr>()
  for (const bytes of raw) {
    let addr: Multiaddr
    try {
      addr = withoutPeer(multiaddr(bytes))
    } catch {
      continue
    }
    if (!isPlainTcp(addr)) continue
    if (!allowPrivate && isPrivate(addr)) continue
    const full = addr.encapsulate(`/p2p/${peerId}`)
    out.set(full.toString(), full)
  }
  return [...out.values()]
}

/**
 * This node's TCP address as other nodes saw it (identify's `observedAddr`
 * on the node's own outbound TCP connections, all of which leave from the
 * one punch port): the NAT mapping of that port. Most recent first, at most
 * `max`. libp2p's address manager keeps no such list for us: it drops
 * private observed addresses and only reports ones AutoNAT confirmed.
 */
export class ObservedTcpAddresses {
  private readonly seen = new Map<string, { addr: Multiaddr, at: number }>()

  constructor (private readonly max = 4) {}

  record (addr: Multiaddr, now = Date.now()): void {
    const plain = withoutPeer(addr)
    if (!isPlainTcp(plain)) return
    const key = plain.toString()
    this.seen.delete(key)
    this.seen.set(key, { addr: plain, at: now })
    while (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value
      if (oldest === undefined) break
      this.seen.delete(oldest)
    }
  }

  list (): Multiaddr[] {
    return [...this.seen.values()].sort((a, b) => b.at - a.at).map((e) => e.addr)
  }
}
