/**
 * A peer given several signaling URLs asks every one's node for its relays
 * (`/health`): it takes those of all that answer, does not wait long for one
 * that hangs, and fails only when none answers. Tiny HTTP servers here.
 */
import { createServer } from 'node:http'
import { createPeer, fetchRelayAddrsOfAll } from '@chiral/peer'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from './support.js'
import type { Server } from 'node:http'

const ID1 = '12D3KooWQVZrcX7waJZhdpLwfkhVLJxpg89oBak41y1h8MHPsisM'
const ID2 = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

describe('relays from several signaling servers\' nodes', () => {
  const servers: Server[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(async (s) => new Promise((resolve) => { s.closeAllConnections(); s.close(resolve) })))
  })

  /** A node's /health on loopback: `multiaddrs`, or never an answer (`hang`). */
  const node = async (health: { multiaddrs: string[] } | 'hang'): Promise<string> => {
    const server = createServer((req, res) => {
      if (health === 'hang') return
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(health))
    })
    servers.push(server)
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    const address = server.address()
    return `ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  }

  it('takes the relays of every node that answers, in URL order, and gives a hanging one only a grace period', async () => {
    const a = await node({ multiaddrs: [`/ip4/127.0.0.1/tcp/4001/p2p/${ID1}`, `/ip4/127.0.0.1/tcp/4002/ws/p2p/${ID1}`] })
    const dead = `ws://127.0.0.1:${await freePort()}`
    const hanging = await node('hang')
    const b = await node({ multiaddrs: [`/ip4/127.0.0.1/tcp/5001/p2p/${ID2}`] })
    const started = Date.now()
    const relays = await fetchRelayAddrsOfAll([dead, a, hanging, b], { browser: false }, { grace: 300 })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(relays).toEqual([`/ip4/127.0.0.1/tcp/4001/p2p/${ID1}`, `/ip4/127.0.0.1/tcp/5001/p2p/${ID2}`])
  })

  it('fails with relay-lookup-failed naming the first URL when no node answers', async () => {
    const [dead1, dead2] = [`ws://127.0.0.1:${await freePort()}`, `ws://127.0.0.1:${await freePort()}`]
    await expect(fetchRelayAddrsOfAll([dead1, dead2], { browser: false })).rejects.toMatchObject({
      code: 'relay-lookup-failed',
      message: expect.stringContaining(`${dead1.replace('ws', 'http')}/health`)
    })
  })

  it('checks every URL of a list given to createPeer', () => {
    expect(() => createPeer({ signaling: ['ws://127.0.0.1:9000', 'http://node.example:9000'] })).toThrow(/not http:\/\/node\.example:9000/)
    expect(() => createPeer({ signaling: [] })).toThrow(/signaling server URL .* or relay multiaddrs/)
  })
})
