import { createNode, waitForRelayReservation } from '@chiral/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Libp2pSignaling, SIGNALING_PROTOCOL } from '../src/index.js'
import { nextSignal } from './client-helpers.js'
import type { ChiralNode, SignalEvent } from '@chiral/core'

describe('libp2p signaling backend (relay reservations on a server node, no WebSocket server)', () => {
  let server: ChiralNode
  const peers: ChiralNode[] = []
  const signaling: Libp2pSignaling[] = []

  beforeAll(async () => {
    server = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
    await server.start()
    const relay = server.getMultiaddrs()[0]!.toString()
    for (let i = 0; i < 2; i++) {
      // Reachable only through the relay, like peers behind NAT.
      const peer = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true })
      await peer.start()
      await waitForRelayReservation(peer, { signal: AbortSignal.timeout(10_000) })
      const s = new Libp2pSignaling({ node: peer })
      await s.start()
      peers.push(peer)
      signaling.push(s)
    }
  })

  afterAll(async () => {
    await Promise.all(signaling.map(async (s) => s.stop()))
    await Promise.all(peers.map(async (p) => p.stop()))
    await server?.stop()
  })

  it('exchanges offer, answer and candidates by PeerId alone (dialed through the shared relay), sender authenticated, session kept', async () => {
    const [a, b] = signaling as [Libp2pSignaling, Libp2pSignaling]
    expect(a.id).toBe(peers[0]!.peerId.toString())
    const offerAt = nextSignal(b)
    expect(await a.send(b.id, { type: 'offer', sdp: 'v=0 o', session: 'x1' }, { signal: AbortSignal.timeout(20_000) })).toBe('libp2p')
    expect(await offerAt).toEqual({ from: a.id, route: 'libp2p', message: { type: 'offer', sdp: 'v=0 o', session: 'x1' } })

    const answerAt = nextSignal(a)
    await b.send(a.id, { type: 'answer', sdp: 'v=0 a', session: 'x1' }, { signal: AbortSignal.timeout(20_000) })
    expect(await answerAt).toEqual({ from: b.id, route: 'libp2p', message: { type: 'answer', sdp: 'v=0 a', session: 'x1' } })

    // A burst of candidates arrives complete and in order.
    const got: SignalEvent[] = []
    b.addEventListener('signal', (e) => { got.push(e.detail) })
    const sends = []
    for (let i = 0; i < 10; i++) {
      sends.push(a.send(b.id, { type: 'candidate', candidate: { candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${5000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 }, session: 'x1' }))
    }
    sends.push(a.send(b.id, { type: 'candidate', candidate: null, session: 'x1' }))
    await Promise.all(sends)
    expect(got.map((s) => s.message.type === 'candidate' ? s.message.candidate?.candidate.split(' ')[0] ?? null : 'x'))
      .toEqual([...Array.from({ length: 10 }, (_, i) => `candidate:${i}`), null])
    expect(got.every((s) => s.from === a.id && s.route === 'libp2p' && s.message.session === 'x1')).toBe(true)

    // The signals really went over a relayed (limited) connection.
    const conns = peers[0]!.getConnections(peers[1]!.peerId)
    expect(conns.some((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true)
  })

  it('a malformed signal is refused with an error reply and not dispatched', async () => {
    const [a, b] = signaling as [Libp2pSignaling, Libp2pSignaling]
    const { lpStream } = await import('@libp2p/utils')
    let dispatched = 0
    const count = (): void => { dispatched++ }
    b.addEventListener('signal', count)
    const stream = await peers[0]!.dialProtocol(peers[1]!.peerId, SIGNALING_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
    const lp = lpStream(stream)
    await lp.write(new TextEncoder().encode('{"type":"offer","sdp":42}'))
    const reply = JSON.parse(new TextDecoder().decode((await lp.read()).subarray()))
    expect(reply).toMatchObject({ type: 'error', code: 'bad-message' })
    b.removeEventListener('signal', count)
    expect(dispatched).toBe(0)
    expect(a.id).not.toBe(b.id)
  })

  it('refuses non-PeerId targets and sends before start', async () => {
    await expect(signaling[0]!.send('not-a-peer-id', { type: 'offer', sdp: '' })).rejects.toMatchObject({ code: 'invalid-argument' })
    const idle = new Libp2pSignaling({ node: peers[0]! })
    await expect(idle.send(signaling[1]!.id, { type: 'offer', sdp: '' })).rejects.toMatchObject({ code: 'not-started' })
  })
})
