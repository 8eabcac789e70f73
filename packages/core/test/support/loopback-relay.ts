/**
 * A relay network on loopback for tests and benchmarks: one `server` node and
 * peers reachable only through their reservation on it (like peers behind NAT).
 */
import { createNode, waitForRelayReservation } from '@chiral/core'
import type { ChiralNode, PeerNodeInit, RelayLimits } from '@chiral/core'

/** Starts a relay / DHT server on 127.0.0.1; `relay` is its TCP multiaddr. */
export async function startLoopbackRelay (limits?: RelayLimits): Promise<{ server: ChiralNode, relay: string }> {
  const server = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true, ...(limits === undefined ? {} : { relay: limits }) })
  await server.start()
  return { server, relay: server.getMultiaddrs()[0]!.toString() }
}

/** Starts a peer that listens only through `relay` and waits for its reservation. */
export async function startRelayedPeer (relay: string, init: Partial<Omit<PeerNodeInit, 'role'>> = {}, timeoutMs = 15_000): Promise<ChiralNode> {
  const node = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true, ...init })
  await node.start()
  await waitForRelayReservation(node, { signal: AbortSignal.timeout(timeoutMs) })
  return node
}
