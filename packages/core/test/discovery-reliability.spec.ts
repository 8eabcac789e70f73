import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDiscovery, createManifest, createNode, waitForRelayReservation } from '../src/index.js'
import type { ChiralNode, ContentDiscovery } from '../src/index.js'
import type { PeerId } from '@libp2p/interface'

/** The parts of kad-dht's routing table these tests look at. */
interface RoutingTableView { routingTable: { size: number, find(peer: PeerId): Promise<PeerId | undefined> } }
const routingTable = (node: ChiralNode): RoutingTableView['routingTable'] => (node.services.dht as unknown as RoutingTableView).routingTable

const ROUNDS = 8

describe('provider discovery with peers reachable only through a relay', () => {
  let server: ChiralNode
  let relay: string
  const running: Array<{ stop: () => Promise<void> | void }> = []

  /** A peer like a browser: no listener of its own, only a relay reservation. */
  const startPeer = async (relays = [relay]): Promise<{ node: ChiralNode, discovery: ContentDiscovery }> => {
    const node = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays, allowPrivateAddresses: true })
    await node.start()
    running.push(node)
    const discovery = createDiscovery(node)
    await discovery.start()
    running.push(discovery)
    return { node, discovery }
  }

  beforeAll(async () => {
    server = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], allowPrivateAddresses: true })
    await server.start()
    // Browsers reach the relay over WebSockets; Node 20 has no WebSocket client for libp2p, so TCP there.
    const ws = 'WebSocket' in globalThis
    relay = server.getMultiaddrs().map(String).find((a) => a.includes('/ws') === ws)!
  })

  afterAll(async () => {
    for (const s of running.reverse()) await s.stop()
    await server?.stop()
  })

  it(`finds what fresh peers announce right after starting (${ROUNDS} rounds, one search each)`, async () => {
    const missed: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const sharer = await startPeer()
      const fetcher = await startPeer()
      const { cid } = await createManifest([new TextEncoder().encode(`round ${round} ${Math.random()}`)])
      // No wait for the relay reservation: announce must take care of it.
      await sharer.discovery.announce(cid, { signal: AbortSignal.timeout(10_000) })
      const found: string[] = []
      try {
        for await (const p of fetcher.discovery.findProviders(cid, { signal: AbortSignal.timeout(10_000) })) found.push(p.peerId.toString())
      } catch { /* counted below */ }
      if (!found.includes(sharer.node.peerId.toString())) missed.push(round)
      for (const s of [fetcher.discovery, sharer.discovery, fetcher.node, sharer.node]) await s.stop()
    }
    expect(missed).toEqual([])
  })

  it('keeps relayed peers out of the routing table: a later announce asks only DHT servers', async () => {
    const peers = [await startPeer(), await startPeer(), await startPeer()]
    for (const p of peers) await waitForRelayReservation(p.node, { signal: AbortSignal.timeout(10_000) })
    const { cid } = await createManifest([new TextEncoder().encode(`shared ${Math.random()}`)])
    await peers[0]!.discovery.announce(cid, { signal: AbortSignal.timeout(10_000) })
    for (const i of [1, 2]) {
      for await (const provider of peers[i]!.discovery.findProviders(cid, { signal: AbortSignal.timeout(10_000) })) {
        // Dial the provider through its relay, as a download would.
        const circuit = provider.multiaddrs.find((ma) => ma.toString().includes('/p2p-circuit'))!
        await peers[i]!.node.dial(circuit, { signal: AbortSignal.timeout(10_000) })
      }
    }
    // kad-dht admits routing table candidates after a ping: give it the time to.
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (const i of [1, 2]) {
      expect(await routingTable(peers[i]!.node).find(peers[0]!.node.peerId)).toBeUndefined()
      expect(await routingTable(peers[i]!.node).find(server.peerId)).toBeDefined()
    }
    // The provider goes away without a word; a later announce must not wait on it.
    await peers[0]!.discovery.stop()
    await peers[0]!.node.stop()
    const { cid: later } = await createManifest([new TextEncoder().encode(`later ${Math.random()}`)])
    const started = Date.now()
    await peers[2]!.discovery.announce(later, { signal: AbortSignal.timeout(10_000) })
    // Asking a relayed client costs a dial timeout (5 s); a DHT server answers in milliseconds.
    expect(Date.now() - started).toBeLessThan(2500)
  })

  it('rejects an announce with AnnounceFailedError when the node never gets an address', async () => {
    const lonely = await startPeer([])
    const started = Date.now()
    const { cid } = await createManifest([new TextEncoder().encode('no address')])
    await expect(lonely.discovery.announce(cid, { signal: AbortSignal.timeout(1000) }))
      .rejects.toMatchObject({ code: 'announce-failed', name: 'AnnounceFailedError' })
    expect(Date.now() - started).toBeLessThan(1000 + 1000)
    expect(lonely.discovery.announcedIds).toEqual([])
  })
})
