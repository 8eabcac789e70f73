import { createNode, relayAddresses, waitForRelayReservation } from '@chiral/core'
import type { ChiralNode, PeerTarget } from '@chiral/core'

export interface RelayNetwork {
  server: ChiralNode
  /** Peers reachable only through the server's relay (they listen on `/p2p-circuit` only). */
  peers: ChiralNode[]
  /** The server's TCP multiaddr, ending in `/p2p/<id>`. */
  relay: string
  stop(): Promise<void>
}

/** Boots a `server` node and `count` `peer` nodes on loopback, peers behind the relay like NATed peers. */
export async function startRelayNetwork (count = 2): Promise<RelayNetwork> {
  const server = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
  await server.start()
  const relay = server.getMultiaddrs().find((ma) => ma.toString().includes('/tcp/'))!.toString()
  const peers: ChiralNode[] = []
  try {
    for (let i = 0; i < count; i++) {
      peers.push(await startPeer(relay))
    }
  } catch (err) {
    await Promise.allSettled(peers.map(async (p) => p.stop()))
    await server.stop()
    throw err
  }
  return {
    server,
    peers,
    relay,
    async stop () {
      await Promise.allSettled(peers.map(async (p) => p.stop()))
      await server.stop()
    }
  }
}

export async function startPeer (relay: string): Promise<ChiralNode> {
  const peer = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true })
  await peer.start()
  await waitForRelayReservation(peer, { signal: AbortSignal.timeout(10_000) })
  return peer
}

/** How a receiver finds `node`: its id and relay circuit addresses. */
export function targetOf (node: ChiralNode): PeerTarget {
  return { peerId: node.peerId.toString(), multiaddrs: relayAddresses(node) }
}
