/**
 * The libp2p-webrtc path: libp2p's own WebRTC transport (core's `webrtc`
 * setting, `/p2p-circuit/webrtc`), two peer processes that reach each other
 * only through a relay, inside a network namespace this file creates. The
 * fetch must run on a WebRTC connection (multiplexer `/webrtc`), never on
 * the relayed one.
 */
import { createNode, isChiralError, relayAddresses, waitForRelayReservation } from '@chiral/core'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { libp2pWebRTCDialer, webRTCCircuitAddresses } from '../src/paths/libp2p-webrtc.js'
import { runFetchScenario } from './support/fetch-scenario.js'
import { createNetns, netnsSupport, spawnNodeScript } from './support/netns.js'
import { startRelayNetwork } from './support/relay-network.js'
import type { Netns } from './support/netns.js'
import type { Connection } from '@libp2p/interface'

const support = await netnsSupport()
if (!support.ok) console.warn(`[libp2p-webrtc-path.spec] skipped: ${support.reason}`)

const SIZE = 8 * 1024 * 1024
const RELAY = '/ip4/198.18.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const PEER = '12D3KooWLRPJAA5o6Z6dKx1ap8kRkqoFvuDVvnHBQy1rJLHVbqNu'

describe('libp2p-webrtc addresses', () => {
  it('takes a peer’s /webrtc circuit addresses first, then derives one from each plain circuit address', () => {
    const addrs = webRTCCircuitAddresses({
      peerId: PEER,
      multiaddrs: [
        multiaddr(`${RELAY}/p2p-circuit/p2p/${PEER}`),
        multiaddr('/ip4/198.18.0.9/tcp/4001'),
        multiaddr(`${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`),
        multiaddr('/ip4/198.18.0.2/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit')
      ]
    }).map(String)
    expect(addrs).toEqual([
      `${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`,
      `/ip4/198.18.0.2/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit/webrtc/p2p/${PEER}`
    ])
  })

  it('fails with path-dial-failed when the remote has no WebRTC transport or the connection is not WebRTC, and closes none it did not make', async () => {
    // Loopback, no namespace: the remote has no WebRTC listener, so no ICE is ever tried.
    const net = await startRelayNetwork(1)
    const dialerNode = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [net.relay], allowPrivateAddresses: true, webrtc: { iceServers: [] } })
    try {
      await dialerNode.start()
      await waitForRelayReservation(dialerNode, { signal: AbortSignal.timeout(10_000) })
      const remote = net.peers[0]!
      expect(relayAddresses(remote).some((a) => a.toString().includes('/webrtc'))).toBe(false)
      const dialer = libp2pWebRTCDialer(dialerNode, { dialTimeout: 5000 })
      expect(dialer.name).toBe('libp2p-webrtc')
      expect(dialer.method).toBe('webrtc-direct')
      const err = await dialer.dial({ peerId: remote.peerId.toString(), multiaddrs: relayAddresses(remote) }, '/chiral/test/1.0.0').catch((e: unknown) => e)
      expect(isChiralError(err, 'path-dial-failed')).toBe(true)
      expect(dialerNode.getConnections(remote.peerId).filter((c) => c.multiplexer === '/webrtc')).toEqual([])

      // A node whose dial hands back a relayed connection instead: refused, never used, and
      // left open (it is not this dialer's: the relay path may be running on it).
      const relayed = relayAddresses(remote)[0]!
      let handedBack: Connection | undefined
      const dialed: string[] = []
      const lying = libp2pWebRTCDialer({
        getConnections: () => [],
        dial: async (addr, options) => {
          dialed.push(addr.toString())
          return (handedBack = await dialerNode.dial(relayed, { ...options, force: true }))
        }
      })
      const refused = await lying.dial({ peerId: remote.peerId.toString(), multiaddrs: [relayed] }, '/chiral/test/1.0.0').catch((e: unknown) => e)
      expect(isChiralError(refused, 'path-dial-failed')).toBe(true)
      expect((refused as Error).message).toMatch(/relay connection/)
      expect(handedBack?.multiplexer).toBe('/yamux/1.0.0')
      expect(handedBack?.status).toBe('open')
      // The relayed connection first (as the WebRTC signaling needs), then the /webrtc address once.
      expect(dialed).toEqual([relayed.toString(), `${relayed.toString().replace(/\/p2p\/[^/]+$/, '')}/webrtc/p2p/${remote.peerId.toString()}`])

      // Handed another dial's relayed connection (libp2p's dial queue joined the dial): dialed
      // again once that dial is over, twice at most; the relayed connection is never closed.
      const joinedDials: string[] = []
      const joining = libp2pWebRTCDialer({
        getConnections: () => [],
        dial: async (addr, options) => {
          joinedDials.push(addr.toString())
          options?.onProgress?.({ type: 'dial-queue:already-in-dial-queue', detail: undefined })
          return (handedBack = await dialerNode.dial(relayed, { ...options, force: true }))
        }
      })
      const stillRefused = await joining.dial({ peerId: remote.peerId.toString(), multiaddrs: [relayed] }, '/chiral/test/1.0.0').catch((e: unknown) => e)
      expect(isChiralError(stillRefused, 'path-dial-failed')).toBe(true)
      expect(joinedDials.filter((a) => a.includes('/webrtc/'))).toHaveLength(3)
      expect(dialerNode.getConnections(remote.peerId).filter((c) => c.multiplexer === '/yamux/1.0.0' && c.status === 'open').length).toBeGreaterThan(0)
    } finally {
      await dialerNode.stop()
      await net.stop()
    }
  })
})

describe.skipIf(!support.ok)('libp2p-webrtc path (processes in a network namespace)', () => {
  let ns: Netns | undefined

  beforeAll(async () => {
    ns = await createNetns({ prefix: 'chiral-l2w' })
  })

  afterAll(async () => {
    await ns?.delete()
  })

  it('fetches over libp2p’s WebRTC connection: hash right, method webrtc-direct on both ends', async () => {
    const netns = ns!
    const r = await runFetchScenario({
      path: 'libp2p-webrtc',
      backend: 'libp2p',
      size: SIZE,
      iceServers: [],
      hubAddress: netns.address,
      spawn: (_role, script, args) => spawnNodeScript(netns, script, { args, signal: AbortSignal.timeout(120_000) })
    })
    expect(r.ready.multiaddrs.some((a) => a.includes('/p2p-circuit/webrtc/p2p/'))).toBe(true)
    expect(r.fetcher.bytes).toBe(SIZE)
    expect(r.fetcher.sha256).toBe(r.ready.sha256)
    expect(r.fetcher.method).toBe('webrtc-direct')
    expect(r.fetcher.bytesByMethod).toEqual({ 'webrtc-direct': SIZE })
    // The provider saw the session on a WebRTC connection, not the relayed one.
    expect(r.provider.sessionMethods).toEqual(['webrtc-direct'])
    expect(r.fetcher.connections).toContain('/webrtc')
    expect(r.hub.messagesRouted).toBe(0)
  })
})
