import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { createNode, isChiralError } from '../src/index.js'
import { ObservedTcpAddresses, punchableAddresses } from '../src/presets/direct-tcp/addresses.js'
import { decodeHolePunch, encodeHolePunch, HolePunchType } from '../src/presets/direct-tcp/message.js'
import type { DirectTcpService } from '../src/index.js'

const PEER = '12D3KooWKBpW3isdFeDXqNj6o2b165vdEDzZNEThFgN7pcxCdwpq'

describe('DCUtR HolePunch message', () => {
  it('round-trips CONNECT with addresses and SYNC without', () => {
    const addrs = [multiaddr('/ip4/198.18.0.11/tcp/20213').bytes, multiaddr('/ip6/2001:db8::1/tcp/4001').bytes]
    const connect = decodeHolePunch(encodeHolePunch({ type: HolePunchType.CONNECT, observedAddresses: addrs }))
    expect(connect.type).toBe(100)
    expect(connect.observedAddresses.map((a) => multiaddr(a).toString())).toEqual(['/ip4/198.18.0.11/tcp/20213', '/ip6/2001:db8::1/tcp/4001'])
    expect(decodeHolePunch(encodeHolePunch({ type: HolePunchType.SYNC, observedAddresses: [] }))).toEqual({ type: 300, observedAddresses: [] })
  })

  it('matches the protobuf encoding (type 300 is a two-byte varint) and skips unknown fields', () => {
    expect([...encodeHolePunch({ type: HolePunchType.SYNC, observedAddresses: [] })]).toEqual([0x08, 0xac, 0x02])
    // field 3 (varint 7) and field 4 (bytes) are unknown
    expect(decodeHolePunch(Uint8Array.from([0x18, 0x07, 0x08, 0x64, 0x22, 0x01, 0xff]))).toEqual({ type: 100, observedAddresses: [] })
  })

  it('rejects a missing type and a truncated field', () => {
    expect(() => decodeHolePunch(Uint8Array.from([0x12, 0x00]))).toThrow(/type/)
    expect(() => decodeHolePunch(Uint8Array.from([0x08, 0x64, 0x12, 0x05, 0x01]))).toThrow(/past the message/)
  })
})

describe('hole punch addresses', () => {
  it('keeps plain TCP addresses, public unless private ones are allowed, each with the peer id', () => {
    const raw = [
      '/ip4/198.18.0.11/tcp/20213', '/ip4/8.8.4.4/tcp/4001', '/ip4/8.8.4.4/tcp/4001/p2p/' + PEER,
      '/ip4/8.8.4.4/tcp/4002/ws', '/ip4/8.8.4.4/udp/4001/quic-v1',
      '/ip4/8.8.4.4/tcp/4001/p2p/' + PEER + '/p2p-circuit'
    ].map((a) => multiaddr(a).bytes)
    raw.push(Uint8Array.from([0xff, 0xff]))
    expect(punchableAddresses(raw, PEER, false).map(String)).toEqual([`/ip4/8.8.4.4/tcp/4001/p2p/${PEER}`])
    expect(punchableAddresses(raw, PEER, true).map(String)).toEqual([`/ip4/198.18.0.11/tcp/20213/p2p/${PEER}`, `/ip4/8.8.4.4/tcp/4001/p2p/${PEER}`])
  })

  it('remembers the most recent observed TCP addresses, without peer ids or non-TCP ones', () => {
    const seen = new ObservedTcpAddresses(2)
    seen.record(multiaddr('/ip4/198.18.0.11/tcp/1000'), 1)
    seen.record(multiaddr('/ip4/198.18.0.11/tcp/2000/p2p/' + PEER), 2)
    seen.record(multiaddr('/ip4/198.18.0.11/tcp/3000/ws'), 3)
    seen.record(multiaddr('/ip4/198.18.0.11/tcp/1000'), 4)
    seen.record(multiaddr('/ip4/198.18.0.11/tcp/4000'), 5)
    expect(seen.list().map(String)).toEqual(['/ip4/198.18.0.11/tcp/4000', '/ip4/198.18.0.11/tcp/1000'])
  })
})

describe('createNode({ directTcp })', () => {
  it('gives the peer a dcutr service with its punch port, off by default', async () => {
    const node = await createNode({ role: 'peer', listen: [], directTcp: { port: 29_999 } })
    const plain = await createNode({ role: 'peer', listen: [] })
    try {
      const service = node.services.dcutr as DirectTcpService
      expect(service.port).toBe(29_999)
      expect(service.observedAddresses()).toEqual([])
      expect(plain.services.dcutr).toBeUndefined()
    } finally {
      await node.stop()
      await plain.stop()
    }
  })

  it('picks a free port below the ephemeral range when none is given', async () => {
    const node = await createNode({ role: 'peer', listen: [], directTcp: true })
    try {
      const { port } = node.services.dcutr as DirectTcpService
      expect(port).toBeGreaterThanOrEqual(20_000)
      expect(port).toBeLessThanOrEqual(32_767)
    } finally {
      await node.stop()
    }
  })

  it('refuses a punch port that is also a listen port', async () => {
    const err = await createNode({ role: 'peer', listen: ['/ip4/127.0.0.1/tcp/29998'], directTcp: { port: 29_998 } }).then(() => undefined, (e: unknown) => e)
    expect(isChiralError(err, 'invalid-argument')).toBe(true)
  })
})
