import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDiscovery, createManifest, createNode, relayAddresses, waitForRelayReservation
} from '../src/index.js'
import type { ChiralNode, ContentDiscovery, ProviderInfo } from '../src/index.js'

describe('provider discovery over the DHT (1 server, 3 peers on loopback)', () => {
  let server: ChiralNode
  const peers: ChiralNode[] = []
  const discoveries: ContentDiscovery[] = []

  beforeAll(async () => {
    server = await createNode({
      role: 'server',
      listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
      allowPrivateAddresses: true
    })
    await server.start()
    const relay = server.getMultiaddrs().find((ma) => ma.toString().includes('/tcp/') && !ma.toString().includes('/ws'))!.toString()
    for (let i = 0; i < 3; i++) {
      const peer = await createNode({
        role: 'peer',
        // Like a peer behind NAT: reachable only through its relay reservation.
        listen: ['/p2p-circuit'],
        relays: [relay],
        allowPrivateAddresses: true
      })
      await peer.start()
      await waitForRelayReservation(peer, { signal: AbortSignal.timeout(10_000) })
      const discovery = createDiscovery(peer)
      await discovery.start()
      peers.push(peer)
      discoveries.push(discovery)
    }
  })

  afterAll(async () => {
    await Promise.all(discoveries.map(async (d) => d.stop()))
    await Promise.all(peers.map(async (p) => p.stop()))
    await server?.stop()
  })

  it('finds an announced id from every other peer and dials the provider through its relay address', async () => {
    const { cid } = await createManifest([new TextEncoder().encode('hello from peer 0')])
    await discoveries[0]!.announce(cid, { signal: AbortSignal.timeout(15_000) })
    expect(discoveries[0]!.announcedIds.map(String)).toEqual([cid.toString()])

    for (const i of [1, 2]) {
      const found: ProviderInfo[] = []
      for await (const provider of discoveries[i]!.findProviders(cid, { signal: AbortSignal.timeout(10_000) })) {
        found.push(provider)
      }
      expect(found.map((p) => p.peerId.toString())).toEqual([peers[0]!.peerId.toString()])
      const circuit = found[0]!.multiaddrs.filter((ma) => ma.toString().includes('/p2p-circuit'))
      expect(circuit.length).toBeGreaterThan(0)

      // Dial the provider through the relay only (force a new connection).
      const target = circuit[0]!.toString().endsWith(peers[0]!.peerId.toString())
        ? circuit[0]!
        : circuit[0]!.encapsulate(`/p2p/${peers[0]!.peerId.toString()}`)
      const conn = await peers[i]!.dial(target, { signal: AbortSignal.timeout(10_000), force: true })
      expect(conn.remotePeer.equals(peers[0]!.peerId)).toBe(true)
      expect(conn.remoteAddr.toString()).toContain('/p2p-circuit')
      const rtt = await peers[i]!.services.ping.ping(target, { signal: AbortSignal.timeout(10_000), runOnLimitedConnection: true } as never)
      expect(rtt).toBeGreaterThanOrEqual(0)
    }
    expect(relayAddresses(peers[0]!).length).toBeGreaterThan(0)
  })

  it('ends a search for a never-announced id with NoProvidersError within the time limit', async () => {
    const { cid } = await createManifest([new TextEncoder().encode('nobody has this')])
    const started = Date.now()
    const search = async (): Promise<void> => {
      for await (const _ of discoveries[1]!.findProviders(cid, { signal: AbortSignal.timeout(2000) })) {
        throw new Error('found a provider of a never-announced id')
      }
    }
    await expect(search()).rejects.toMatchObject({ name: 'NoProvidersError', code: 'no-providers' })
    expect(Date.now() - started).toBeLessThan(2000 + 1000)
  })

  it('rejects bad ids with a typed error before touching the network', async () => {
    const search = async (): Promise<void> => {
      for await (const _ of discoveries[1]!.findProviders('not-a-cid')) { /* nothing */ }
    }
    await expect(search()).rejects.toMatchObject({ code: 'invalid-content-id' })
    await expect(discoveries[0]!.announce('bafy-nope')).rejects.toMatchObject({ code: 'invalid-content-id' })
  })

  it('withdraw stops announcing', async () => {
    const { cid } = await createManifest([new TextEncoder().encode('temporary')])
    await discoveries[2]!.announce(cid, { signal: AbortSignal.timeout(15_000) })
    await discoveries[2]!.withdraw(cid)
    expect(discoveries[2]!.announcedIds.map(String)).not.toContain(cid.toString())
  })
})
