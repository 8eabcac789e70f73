import { describe, expect, it } from 'vitest'
import { isChiralError } from '@chiral/core'
import { contentIdOf, createPeer, demoUrlOf, healthUrl, relayAddrsFromHealth, shareLink } from '../src/index.js'
import { isPrivateHost, onPrivateNetwork } from '../src/private-network.js'

const CID = 'bafyreic6yivacgxw3yopyumxmgkqd7fymzotywsef44urw62qsa3fx2qb4'
const RELAY = '12D3KooWQVZrcX7waJZhdpLwfkhVLJxpg89oBak41y1h8MHPsisM'

describe('share links and content ids', () => {
  it('makes a link to the demo on the signaling server\'s node and reads the id back from it', () => {
    const base = demoUrlOf('wss://node.example:9000/signal?x=1')
    expect(base).toBe('https://node.example:9000/')
    const link = shareLink(base, CID)
    expect(link).toBe(`https://node.example:9000/#/download/${CID}`)
    expect(contentIdOf(link)).toBe(CID)
    expect(contentIdOf(`  ${CID}\n`)).toBe(CID)
  })

  it('rejects anything that is not a content id or a link to one with invalid-content-id', () => {
    for (const bad of ['', 'hello', 'http://node.example/#/download/nope', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG']) {
      let caught: unknown
      try { contentIdOf(bad) } catch (err) { caught = err }
      expect(isChiralError(caught, 'invalid-content-id'), bad).toBe(true)
    }
  })
})

describe('relay addresses from a node\'s /health', () => {
  const health = {
    multiaddrs: [
      `/ip4/127.0.0.1/tcp/4001/p2p/${RELAY}`,
      `/ip4/10.0.0.5/tcp/4001/p2p/${RELAY}`,
      `/ip4/127.0.0.1/tcp/4002/ws/p2p/${RELAY}`,
      `/ip4/10.0.0.5/tcp/4002/ws/p2p/${RELAY}`,
      `/ip4/10.0.0.5/tcp/4001/p2p/${RELAY}/p2p-circuit`,
      42
    ]
  }
  it('gives browsers WebSocket addresses and Node peers TCP ones, the signaling host\'s first', () => {
    expect(relayAddrsFromHealth(health, { browser: true, preferHost: '10.0.0.5' })).toEqual([`/ip4/10.0.0.5/tcp/4002/ws/p2p/${RELAY}`])
    expect(relayAddrsFromHealth(health, { browser: false, preferHost: '127.0.0.1' })).toEqual([`/ip4/127.0.0.1/tcp/4001/p2p/${RELAY}`])
    expect(relayAddrsFromHealth(health, { browser: false, preferHost: 'elsewhere' })).toHaveLength(2)
    expect(relayAddrsFromHealth({ multiaddrs: 'nope' }, { browser: true })).toEqual([])
  })
  it('asks /health on the signaling server\'s host and port', () => {
    expect(healthUrl('ws://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/health')
    expect(healthUrl('wss://n.example/sig')).toBe('https://n.example/health')
  })
})

describe('private networks', () => {
  it('knows loopback, private, link-local and lab addresses from public ones', () => {
    for (const h of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.9', '169.254.3.3', '198.18.72.85', 'localhost', '[::1]', 'fd00::1']) expect(isPrivateHost(h), h).toBe(true)
    for (const h of ['8.8.8.8', '172.32.0.1', '198.20.0.1', 'node.example', '2001:db8::1']) expect(isPrivateHost(h), h).toBe(false)
    expect(onPrivateNetwork(['ws://127.0.0.1:9000', `/ip4/10.0.0.5/tcp/4001/p2p/${RELAY}`])).toBe(true)
    expect(onPrivateNetwork(['wss://node.example', `/ip4/10.0.0.5/tcp/4001/p2p/${RELAY}`])).toBe(false)
    expect(onPrivateNetwork([])).toBe(false)
  })
})

describe('createPeer settings', () => {
  it('refuses a peer with neither a signaling server nor relays, and a signaling URL that is not ws(s)', () => {
    expect(() => createPeer({})).toThrow(/signaling server URL .* or relay multiaddrs/)
    expect(() => createPeer({ signaling: 'http://node.example:9000' })).toThrow(/ws:\/\/… or wss:\/\//)
  })
  it('says it is not running when used before start()', async () => {
    const peer = createPeer({ signaling: 'ws://127.0.0.1:9' })
    await expect(peer.fetch(CID)).rejects.toMatchObject({ code: 'not-started' })
    expect(peer.state).toEqual({ status: 'idle' })
  })
  it('fails start() with relay-lookup-failed naming the URL when the signaling server\'s node does not answer, leaving nothing running', async () => {
    const peer = createPeer({ signaling: 'ws://127.0.0.1:9' })
    await expect(peer.start()).rejects.toMatchObject({ code: 'relay-lookup-failed', message: expect.stringContaining('http://127.0.0.1:9/health') })
    expect(peer.state.status).toBe('stopped')
  })
})
