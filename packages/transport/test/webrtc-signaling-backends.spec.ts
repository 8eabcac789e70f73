/**
 * The WebRTC path over each signaling backend, three processes inside a
 * network namespace this file creates (see support/fetch-scenario.ts): a hub
 * (relay + WebSocket signaling server), a provider answering with
 * `WebRTCListener`, a fetcher dialing with `WebRTCPathDialer`. The provider
 * serves nothing over libp2p, so the bytes can only come over the
 * DataChannel; which route carried the signals is counted on both peers and
 * on the signaling server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runFetchScenario } from './support/fetch-scenario.js'
import { createNetns, netnsSupport, spawnNodeScript } from './support/netns.js'
import type { FetchScenarioInit, FetchScenarioResult } from './support/fetch-scenario.js'
import type { Netns } from './support/netns.js'

const support = await netnsSupport()
if (!support.ok) console.warn(`[webrtc-signaling-backends.spec] skipped: ${support.reason}`)

const SIZE = 8 * 1024 * 1024

describe.skipIf(!support.ok)('webrtc path over every signaling backend (processes in a network namespace)', () => {
  let ns: Netns | undefined

  beforeAll(async () => {
    ns = await createNetns({ prefix: 'chiral-sig' })
  })

  afterAll(async () => {
    await ns?.delete()
  })

  async function run (init: Omit<FetchScenarioInit, 'spawn' | 'hubAddress'>): Promise<FetchScenarioResult> {
    const netns = ns
    if (netns == null) throw new Error('no namespace')
    return runFetchScenario({
      ...init,
      size: SIZE,
      iceServers: [],
      hubAddress: netns.address,
      spawn: (_role, script, args) => spawnNodeScript(netns, script, { args, signal: AbortSignal.timeout(120_000) })
    })
  }

  function expectFetched (r: FetchScenarioResult): void {
    expect(r.fetcher.bytes).toBe(SIZE)
    expect(r.fetcher.sha256).toBe(r.ready.sha256)
    expect(r.fetcher.method).toBe('webrtc-direct')
    expect(r.fetcher.bytesByMethod).toEqual({ 'webrtc-direct': SIZE })
    expect(r.provider.channels).toHaveLength(1)
    expect(r.provider.served).toBe(1)
    expect(r.provider.sessionErrors).toEqual([])
  }

  it('WebSocket server only: PeerId-registered clients, every signal through the server', async () => {
    const r = await run({ backend: 'websocket', useRelay: false })
    expectFetched(r)
    expect(r.provider.channels[0]?.route).toBe('websocket')
    // Offer + candidates one way, answer + candidates back: all through the server.
    expect(r.fetcher.sent.libp2p + r.provider.sent.libp2p).toBe(0)
    expect(r.fetcher.sent.websocket).toBeGreaterThanOrEqual(2)
    expect(r.provider.sent.websocket).toBeGreaterThanOrEqual(2)
    expect(r.provider.received).toEqual({ websocket: r.fetcher.sent.websocket, libp2p: 0 })
    expect(r.fetcher.received).toEqual({ websocket: r.provider.sent.websocket, libp2p: 0 })
    expect(r.hub.messagesRouted).toBe(r.fetcher.sent.websocket + r.provider.sent.websocket)
  })

  it('libp2p only: signals over relayed connections, no signaling server', async () => {
    const r = await run({ backend: 'libp2p' })
    expectFetched(r)
    expect(r.provider.channels[0]?.route).toBe('libp2p')
    expect(r.fetcher.sent.websocket + r.provider.sent.websocket).toBe(0)
    expect(r.fetcher.sent.libp2p).toBeGreaterThanOrEqual(2)
    expect(r.provider.received).toEqual({ websocket: 0, libp2p: r.fetcher.sent.libp2p })
    expect(r.fetcher.received).toEqual({ websocket: 0, libp2p: r.provider.sent.libp2p })
    expect(r.hub.messagesRouted).toBe(0)
  })

  it('hybrid with both routes up: libp2p carries every signal, the server none', async () => {
    const r = await run({ backend: 'hybrid' })
    expectFetched(r)
    expect(r.provider.channels[0]?.route).toBe('libp2p')
    expect(r.fetcher.routes.length).toBe(r.fetcher.sent.libp2p)
    expect(r.fetcher.routes.every((x) => x.route === 'libp2p' && x.failed.length === 0)).toBe(true)
    expect(r.fetcher.sent.websocket + r.provider.sent.websocket).toBe(0)
    expect(r.provider.received.libp2p).toBe(r.fetcher.sent.libp2p)
    expect(r.hub.messagesRouted).toBe(0)
  })

  it('hybrid without relay reservations: libp2p fails, the server carries every signal', async () => {
    const r = await run({ backend: 'hybrid', useRelay: false })
    expectFetched(r)
    expect(r.provider.channels[0]?.route).toBe('websocket')
    // The first message of the session tried libp2p first; the session then sticks to WebSocket.
    expect(r.fetcher.routes[0]).toEqual({ route: 'websocket', failed: ['libp2p'] })
    expect(r.fetcher.routes.every((x) => x.route === 'websocket')).toBe(true)
    expect(r.fetcher.sent.libp2p + r.provider.sent.libp2p).toBe(0)
    expect(r.hub.messagesRouted).toBe(r.fetcher.sent.websocket + r.provider.sent.websocket)
  })
})
