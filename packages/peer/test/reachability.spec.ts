import { createNode } from '@chiral/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createPeer } from '../src/index.js'
import type { ChiralPeer, ReachabilityDetail } from '../src/index.js'
import type { ChiralNode } from '@chiral/core'

describe('peer.reachability and the reachability event', () => {
  const stops: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop()
  })

  async function loopbackServer (): Promise<string> {
    const server: ChiralNode = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
    await server.start()
    stops.push(async () => { await server.stop() })
    return server.getMultiaddrs()[0]!.toString()
  }

  function peerOn (relay: string, extra: { listen?: string[], reachabilityWindow?: number } = {}): { peer: ChiralPeer<string>, seen: ReachabilityDetail[] } {
    const peer = createPeer({ relays: [relay], signalingMode: 'libp2p', direct: false, ...extra })
    const seen: ReachabilityDetail[] = []
    peer.addEventListener('reachability', (e) => { seen.push(e.detail) })
    stops.push(async () => { await peer.stop() })
    return { peer, seen }
  }

  it('is unknown before start; relay-only at once for a peer without direct listeners', async () => {
    const { peer, seen } = peerOn(await loopbackServer())
    expect(peer.reachability).toEqual({ status: 'unknown' })
    await peer.start()
    expect(peer.reachability).toMatchObject({ status: 'private', reason: 'relay-only' })
    expect(seen.at(-1)?.direct).toEqual(peer.reachability)
    expect(seen.at(-1)?.relayAddresses.length).toBeGreaterThan(0)
  })

  it('checks a direct listener, then (loopback is never checked by AutoNAT) says private after the window', async () => {
    const { peer, seen } = peerOn(await loopbackServer(), { listen: ['/ip4/127.0.0.1/tcp/0'], reachabilityWindow: 300 })
    await peer.start()
    const deadline = Date.now() + 10_000
    while (peer.reachability.status !== 'private' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(peer.reachability).toEqual({ status: 'private', reason: 'no-public-address', candidates: [], servers: 1 })
    expect(seen.map((d) => d.direct.status)).toContain('checking')
    expect(seen.at(-1)?.direct).toEqual(peer.reachability)
  })
})
