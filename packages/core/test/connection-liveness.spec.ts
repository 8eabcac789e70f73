import { afterEach, describe, expect, it } from 'vitest'
import { createNode } from '../src/index.js'
import type { ChiralNode } from '../src/index.js'
import type { Connection } from '@libp2p/interface'

const PING = '/ipfs/ping/1.0.0'
const FEED = '/chiral-test/feed/1.0.0'
const liveness = { pingInterval: 400, pingTimeout: 400 }

/**
 * When a connection counts as dead: real libp2p nodes over loopback TCP,
 * where the remote answers pings never (its ping handler swallows them).
 */
describe('connection liveness', () => {
  const nodes: ChiralNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(async (n) => n.stop()))
  })

  /** A server whose ping handler never answers, and a peer connected to it. */
  async function pair (): Promise<{ server: ChiralNode, peer: ChiralNode, connection: Connection }> {
    const server = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true, liveness })
    await server.start()
    await server.unhandle(PING)
    await server.handle(PING, () => { /* read nothing, answer nothing: a peer that went silent */ }, { runOnLimitedConnection: true })
    const peer = await createNode({ role: 'peer', listen: [], allowPrivateAddresses: true, liveness })
    await peer.start()
    nodes.push(server, peer)
    const connection = await peer.dial(server.getMultiaddrs()[0]!)
    return { server, peer, connection }
  }

  const closed = async (connection: Connection, ms: number): Promise<boolean> => {
    const until = Date.now() + ms
    while (Date.now() < until) {
      if (connection.status !== 'open') return true
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return connection.status !== 'open'
  }

  it('aborts a quiet connection whose pings go unanswered, within interval + timeout', async () => {
    const { connection } = await pair()
    const t0 = Date.now()
    expect(await closed(connection, 4000)).toBe(true)
    expect(Date.now() - t0).toBeLessThan(3000)
  })

  it('keeps a connection that delivers data, however late its pings', async () => {
    const { server, connection } = await pair()
    // The server sends a little every 100 ms on a stream the peer reads.
    await server.handle(FEED, (stream) => {
      const timer = setInterval(() => {
        if (stream.status !== 'open') { clearInterval(timer); return }
        stream.send(new Uint8Array(16))
      }, 100)
    })
    const feed = await connection.newStream(FEED)
    let received = 0
    feed.addEventListener('message', (e) => { received += e.data.byteLength })
    expect(await closed(connection, 3000)).toBe(false)
    expect(received).toBeGreaterThan(0)
    // Once the data stops, the pings decide again.
    feed.abort(new Error('feed over'))
    expect(await closed(connection, 4000)).toBe(true)
  })
})
