import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { AUTONAT_V2_DIAL_REQUEST, computeReachability, createNode, reachabilityOf } from '../src/index.js'
import { startLoopbackRelay, startRelayedPeer } from './support/loopback-relay.js'
import type { AddressInfo, ChiralNode, Reachability, ReachabilityInput } from '../src/index.js'

const RELAY = '/ip4/203.0.114.7/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const TCP_LISTEN = multiaddr('/ip4/0.0.0.0/tcp/4010')
const CIRCUIT_LISTEN = multiaddr('/p2p-circuit')
const addr = (a: string, verified: boolean, type = 'transport'): AddressInfo => ({ multiaddr: multiaddr(a), verified, type })

const input = (over: Partial<ReachabilityInput>): ReachabilityInput => ({
  listen: [TCP_LISTEN, CIRCUIT_LISTEN],
  addresses: [],
  servers: 1,
  windowOver: false,
  ...over
})

describe('computeReachability', () => {
  it('is public once a direct public address is confirmed, whatever the window', () => {
    expect(computeReachability(input({
      addresses: [addr('/ip4/127.0.0.1/tcp/4010', true), addr('/ip4/203.0.114.9/tcp/4010', true), addr(`${RELAY}/p2p-circuit`, true)]
    }))).toEqual({ status: 'public', addresses: ['/ip4/203.0.114.9/tcp/4010'] })
  })

  it('does not count relay circuits, private addresses or announced ones as public', () => {
    const r = computeReachability(input({
      windowOver: true,
      addresses: [
        addr(`${RELAY}/p2p-circuit`, true),
        addr('/ip4/192.168.1.5/tcp/4010', true),
        addr('/ip4/198.18.0.11/tcp/4010', true),
        addr('/ip6/fe80::1/tcp/4010', true),
        addr('/ip4/203.0.114.9/tcp/4010', true, 'announce'),
        addr('/dns4/peer.example/tcp/4010', true, 'dns-mapping')
      ]
    }))
    expect(r).toEqual({ status: 'private', reason: 'no-public-address', candidates: [], servers: 1 })
  })

  it('is checking while public-looking addresses wait for a dial-back, then private (not confirmed)', () => {
    const addresses = [addr('/ip4/192.168.1.5/tcp/4010', true), addr('/ip4/203.0.114.9/tcp/51234', false, 'observed')]
    expect(computeReachability(input({ addresses }))).toEqual({ status: 'checking', candidates: ['/ip4/203.0.114.9/tcp/51234'], servers: 1 })
    expect(computeReachability(input({ addresses, windowOver: true }))).toEqual({
      status: 'private', reason: 'not-confirmed', candidates: ['/ip4/203.0.114.9/tcp/51234'], servers: 1
    })
  })

  it('is private (relay only) at once without a direct listener, even with an observed address', () => {
    expect(computeReachability(input({
      listen: [CIRCUIT_LISTEN, multiaddr('/webrtc')],
      addresses: [addr(`${RELAY}/p2p-circuit`, true), addr('/ip4/203.0.114.9/tcp/51234', false, 'observed')]
    }))).toEqual({ status: 'private', reason: 'relay-only', candidates: ['/ip4/203.0.114.9/tcp/51234'], servers: 1 })
  })

  it('takes IPv6 only from global unicast space', () => {
    expect(computeReachability(input({ addresses: [addr('/ip6/2a01:4f8::5/tcp/4010', true)] })).status).toBe('public')
    expect(computeReachability(input({ windowOver: true, addresses: [addr('/ip6/fd00::5/tcp/4010', true)] })).status).toBe('private')
  })
})

describe('the reachability service on a peer', () => {
  const nodes: ChiralNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(async (n) => n.stop()))
  })

  it('meets the server\'s AutoNAT v2, and on loopback (private: never checked) ends private after the window', async () => {
    const { server, relay } = await startLoopbackRelay()
    nodes.push(server)
    expect(server.getProtocols()).toContain(AUTONAT_V2_DIAL_REQUEST)
    const seen: Reachability[] = []
    const peer = await createNode({ role: 'peer', listen: ['/ip4/127.0.0.1/tcp/0', '/p2p-circuit'], relays: [relay], allowPrivateAddresses: true, reachability: { window: 500 } })
    nodes.push(peer)
    peer.services.reachability?.addEventListener('reachability', (e) => { seen.push(e.detail) })
    await peer.start()
    const deadline = Date.now() + 10_000
    while (reachabilityOf(peer).status !== 'private' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(reachabilityOf(peer)).toEqual({ status: 'private', reason: 'no-public-address', candidates: [], servers: 1 })
    // checking while the window ran (the server connected during it), then private
    expect(seen[0]).toMatchObject({ status: 'checking' })
    expect(seen.at(-1)).toEqual(reachabilityOf(peer))
    expect(reachabilityOf(server)).toEqual({ status: 'unknown' })
  })

  it('is private (relay only) at once for a peer that listens only through the relay', async () => {
    const { server, relay } = await startLoopbackRelay()
    nodes.push(server)
    const peer = await startRelayedPeer(relay)
    nodes.push(peer)
    expect(reachabilityOf(peer)).toMatchObject({ status: 'private', reason: 'relay-only' })
  })
})
