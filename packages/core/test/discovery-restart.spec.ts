import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { createDiscovery, createManifest, createNode, waitForRelayReservation } from '../src/index.js'
import type { AnnounceEventDetail, ChiralNode, ContentDiscovery, ContentDiscoveryInit } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

/**
 * A DHT server that restarts loses the provider records it held in memory.
 * The peers get back to it on their own (the relay keeper tags it keep-alive,
 * so libp2p's reconnect queue redials it, after 1 s, then 2.5 s, …); their
 * discovery must then re-announce at once instead of at the next periodic
 * round (10 minutes away).
 */
describe('provider discovery across a DHT server restart', () => {
  const running: Array<{ stop: () => Promise<void> | void }> = []

  afterEach(async () => {
    for (const s of running.splice(0).reverse()) await s.stop()
  })

  /** A server on a fixed loopback port; libp2p's default datastore is in memory, so each one starts empty. */
  const startServer = async (privateKey: PrivateKey, port = 0): Promise<ChiralNode> => {
    const server = await createNode({ role: 'server', privateKey, listen: [`/ip4/127.0.0.1/tcp/${port}`], allowPrivateAddresses: true })
    await server.start()
    running.push(server)
    return server
  }

  const startPeer = async (relay: string, init: ContentDiscoveryInit = {}): Promise<{ node: ChiralNode, discovery: ContentDiscovery, announces: AnnounceEventDetail[] }> => {
    const node = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true })
    await node.start()
    running.push(node)
    await waitForRelayReservation(node, { signal: AbortSignal.timeout(10_000) })
    const discovery = createDiscovery(node, init)
    await discovery.start()
    running.push(discovery)
    const announces: AnnounceEventDetail[] = []
    discovery.addEventListener('announce', (evt) => { announces.push(evt.detail) })
    return { node, discovery, announces }
  }

  /** Stops the server, waits `downMs` and starts a new one with the same key on the same port. */
  const restart = async (server: ChiralNode, key: PrivateKey, downMs: number): Promise<ChiralNode> => {
    const port = Number(server.getMultiaddrs()[0]!.toString().split('/')[4])
    await server.stop()
    await new Promise((resolve) => setTimeout(resolve, downMs))
    return startServer(key, port)
  }

  /** The peer ids `fetcher` finds for `cid` before `ms` pass (none: NoProvidersError, caught). */
  const find = async (discovery: ContentDiscovery, cid: string, ms: number): Promise<string[]> => {
    const found: string[] = []
    try {
      for await (const p of discovery.findProviders(cid, { signal: AbortSignal.timeout(ms) })) found.push(p.peerId.toString())
    } catch (err) {
      if ((err as Error).name !== 'NoProvidersError') throw err
    }
    return found
  }

  it('re-announces once the restarted server is back: another peer finds the provider within seconds', async () => {
    const key = await generateKeyPair('Ed25519')
    const server = await startServer(key)
    const relay = server.getMultiaddrs()[0]!.toString()
    const sharer = await startPeer(relay)
    const fetcher = await startPeer(relay)
    const { cid } = await createManifest([new TextEncoder().encode(`restart ${Math.random()}`)])
    await sharer.discovery.announce(cid, { signal: AbortSignal.timeout(10_000) })
    expect(sharer.announces).toEqual([{ cid }])

    const fresh = await restart(server, key, 500)
    const back = Date.now()
    expect(fresh.peerId.equals(server.peerId)).toBe(true)

    // Ask until found: a search that a server answers before the sharer's
    // re-announce reached it ends with no providers.
    let found: string[] = []
    while (!found.includes(sharer.node.peerId.toString()) && Date.now() - back < 5000) {
      found = await find(fetcher.discovery, cid.toString(), 5000 - (Date.now() - back))
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const foundMs = Date.now() - back
    expect(found).toEqual([sharer.node.peerId.toString()])
    expect(foundMs).toBeLessThan(5000)
    // The restart caused exactly one re-announce round for the one id.
    const rounds = sharer.announces.filter((a) => a.reason === 'server-returned')
    expect(rounds).toHaveLength(1)
    expect(rounds[0]!.cid.equals(cid)).toBe(true)
    expect(rounds[0]!.error).toBeUndefined()
    // The fetcher has nothing announced: it re-announced nothing.
    expect(fetcher.announces).toEqual([])
  })

  it('without the re-announce the restarted server knows no provider (the case above is not luck)', async () => {
    const key = await generateKeyPair('Ed25519')
    const server = await startServer(key)
    const relay = server.getMultiaddrs()[0]!.toString()
    const sharer = await startPeer(relay, { reannounceOnReturn: false })
    const fetcher = await startPeer(relay)
    const { cid } = await createManifest([new TextEncoder().encode(`no restart handling ${Math.random()}`)])
    await sharer.discovery.announce(cid, { signal: AbortSignal.timeout(10_000) })
    expect(await find(fetcher.discovery, cid.toString(), 5000)).toEqual([sharer.node.peerId.toString()])

    await restart(server, key, 500)
    // Give the sharer the same time to get back as in the case above, and more.
    await waitForRelayReservation(sharer.node, { signal: AbortSignal.timeout(10_000) })
    await new Promise((resolve) => setTimeout(resolve, 2000))
    expect(await find(fetcher.discovery, cid.toString(), 3000)).toEqual([])
    expect(sharer.announces.filter((a) => a.reason !== undefined)).toEqual([])
  })

  it('does not re-announce for peers that are not DHT servers, nor for a server that stays connected', async () => {
    const key = await generateKeyPair('Ed25519')
    const server = await startServer(key)
    const relay = server.getMultiaddrs()[0]!.toString()
    const sharer = await startPeer(relay, { returnDebounce: 100 })
    const { cid } = await createManifest([new TextEncoder().encode(`quiet ${Math.random()}`)])
    await sharer.discovery.announce(cid, { signal: AbortSignal.timeout(10_000) })
    // Other peers come and go through the relay; the server is dialed again (identify runs again).
    for (let i = 0; i < 3; i++) {
      const other = await startPeer(relay)
      const circuit = sharer.node.getMultiaddrs().find((ma) => ma.toString().includes('/p2p-circuit'))!
      await other.node.dial(circuit, { signal: AbortSignal.timeout(10_000) })
    }
    await sharer.node.dial(server.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000), force: true })
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(sharer.announces.filter((a) => a.reason !== undefined)).toEqual([])
  })
})
