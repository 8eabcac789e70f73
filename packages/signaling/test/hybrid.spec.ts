import { createNode, waitForRelayReservation } from '@chiral/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { HybridSignaling, Libp2pSignaling } from '../src/index.js'
import { nextSignal, untilOpen, wsClient } from './client-helpers.js'
import { startServer } from './raw-client.js'
import type { RouteReport, SignalingServer } from '../src/index.js'
import type { ChiralNode } from '@chiral/core'

interface Side { node: ChiralNode, hybrid: HybridSignaling }

describe('hybrid signaling: libp2p first, WebSocket fallback', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f()
  })

  async function side (url: string, relays: string[], init: ConstructorParameters<typeof HybridSignaling>[1] = {}): Promise<Side> {
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createNode({ role: 'peer', privateKey, listen: relays.length > 0 ? ['/p2p-circuit'] : [], relays, allowPrivateAddresses: true })
    await node.start()
    cleanup.push(async () => { await node.stop() })
    if (relays.length > 0) await waitForRelayReservation(node, { signal: AbortSignal.timeout(10_000) })
    const websocket = wsClient(url, { privateKey })
    const hybrid = new HybridSignaling({ libp2p: new Libp2pSignaling({ node }), websocket }, { attemptTimeout: 3000, ...init })
    await hybrid.start()
    cleanup.push(async () => { await hybrid.stop() })
    await untilOpen(websocket)
    return { node, hybrid }
  }

  async function wsServer (): Promise<{ server: SignalingServer, url: string }> {
    const s = await startServer()
    cleanup.push(async () => { await s.server.stop() })
    return s
  }

  it('falls back to the WebSocket server when the libp2p route is unavailable, and says so', async () => {
    const { url, server } = await wsServer()
    // No relay, no listen address, no DHT peers: libp2p cannot reach anyone.
    const a = await side(url, [])
    const b = await side(url, [])
    expect(a.hybrid.id).toBe(a.node.peerId.toString())
    const reports: RouteReport[] = []
    a.hybrid.addEventListener('route', (e) => { reports.push(e.detail) })

    const got = nextSignal(b.hybrid)
    expect(await a.hybrid.send(b.hybrid.id, { type: 'offer', sdp: 'fallback', session: 'h1' })).toBe('websocket')
    expect(await got).toEqual({ from: a.hybrid.id, route: 'websocket', message: { type: 'offer', sdp: 'fallback', session: 'h1' } })
    expect(reports[0]).toMatchObject({ to: b.hybrid.id, session: 'h1', route: 'websocket' })
    expect(reports[0]!.failed.map((f) => f.route)).toEqual(['libp2p'])
    expect(a.hybrid.routeOf(b.hybrid.id, 'h1')).toBe('websocket')

    // The session sticks to the route that worked: no new libp2p attempt.
    const cand = nextSignal(b.hybrid)
    expect(await a.hybrid.send(b.hybrid.id, { type: 'candidate', candidate: null, session: 'h1' })).toBe('websocket')
    expect(reports[1]!.failed).toEqual([])
    expect((await cand).route).toBe('websocket')
    // B answers the way the offer came.
    const answer = nextSignal(a.hybrid)
    expect(await b.hybrid.send(a.hybrid.id, { type: 'answer', sdp: 'ok', session: 'h1' })).toBe('websocket')
    expect((await answer).from).toBe(b.hybrid.id)
    expect(server.stats().messagesRouted).toBe(3)
  })

  it('uses libp2p when it works, with the WebSocket server still up', async () => {
    const { url, server } = await wsServer()
    const relayNode = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
    await relayNode.start()
    cleanup.push(async () => { await relayNode.stop() })
    const relay = relayNode.getMultiaddrs()[0]!.toString()
    const a = await side(url, [relay])
    const b = await side(url, [relay])
    const got = nextSignal(b.hybrid)
    expect(await a.hybrid.send(b.hybrid.id, { type: 'offer', sdp: 'direct', session: 'h2' }, { signal: AbortSignal.timeout(10_000) })).toBe('libp2p')
    expect(await got).toMatchObject({ from: a.hybrid.id, route: 'libp2p' })
    expect(server.stats().messagesRouted).toBe(0)
  })

  it('follows a configured order, and fails with every route’s error when none works', async () => {
    const { url, server } = await wsServer()
    const a = await side(url, [], { order: ['websocket', 'libp2p'], attemptTimeout: 500 })
    const b = await side(url, [])
    const got = nextSignal(b.hybrid)
    expect(await a.hybrid.send(b.hybrid.id, { type: 'offer', sdp: 'ws first' })).toBe('websocket')
    expect((await got).route).toBe('websocket')
    await server.stop()
    await expect(a.hybrid.send(b.hybrid.id, { type: 'offer', sdp: 'nowhere', session: 'lost' }))
      .rejects.toMatchObject({ code: 'signaling-routes-exhausted' })
  })

  it('refuses backends with different ids', async () => {
    const { url } = await wsServer()
    const node = await createNode({ role: 'peer', listen: [], allowPrivateAddresses: true })
    expect(() => new HybridSignaling({ libp2p: new Libp2pSignaling({ node }), websocket: wsClient(url, { id: 'other' }) }))
      .toThrow(/share one id/)
  })
})
