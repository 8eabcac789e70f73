/**
 * The WebSocket signaling client given several server URLs: it registers on
 * one that answers, moves to the next at once when that one dies, and backs
 * off only after a whole round failed. Servers in this process, loopback.
 */
import { createSignalingServer, WebSocketSignaling } from '@chiral/signaling'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { freePort, waitFor } from './support.js'
import type { SignalingServer, WebSocketStateDetail } from '@chiral/signaling'

describe('WebSocketSignaling with several server URLs', () => {
  const servers: SignalingServer[] = []
  const clients: WebSocketSignaling[] = []

  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map(async (c) => c.stop()))
    await Promise.allSettled(servers.splice(0).map(async (s) => s.stop()))
  })

  const serve = async (port: number): Promise<SignalingServer> => {
    const server = createSignalingServer({ port, host: '127.0.0.1' })
    await server.start()
    servers.push(server)
    return server
  }

  const client = (urls: string[], id: string): { client: WebSocketSignaling, states: WebSocketStateDetail[] } => {
    const c = new WebSocketSignaling({ urls, WebSocket, id, reconnect: { initialDelay: 100, maxDelay: 400 } })
    clients.push(c)
    const states: WebSocketStateDetail[] = []
    c.addEventListener('state', (e) => { states.push(e.detail) })
    return { client: c, states }
  }

  const openOn = async (c: WebSocketSignaling, url: string, ms = 5000): Promise<number> =>
    waitFor(`registered on ${url}`, () => c.status === 'open' && c.url === url, ms, 10)

  it('registers on the live server when the first URL is dead, and moves when that server stops and another starts', async () => {
    const [portA, portB] = [await freePort(), await freePort()]
    const urlA = `ws://127.0.0.1:${portA}`
    const urlB = `ws://127.0.0.1:${portB}`
    const b = await serve(portB)
    const { client: c, states } = client([urlA, urlB], 'failover-1')
    expect(c.urls).toEqual([urlA, urlB])
    await c.start()
    await openOn(c, urlB)
    // The dead one is tried first, then the live one at once: no backoff in between.
    expect(states.map((s) => [s.status, s.url])).toEqual([['connecting', urlA], ['connecting', urlB], ['open', urlB]])
    expect(b.stats().registered).toBe(1)

    // Another server comes up where the dead one was; B stops: the client moves there at once.
    const a = await serve(portA)
    states.length = 0
    const stoppedAt = Date.now()
    await b.stop()
    await openOn(c, urlA)
    const moveMs = Date.now() - stoppedAt
    expect(states.map((s) => [s.status, s.url])).toEqual([['connecting', urlA], ['open', urlA]])
    expect(a.stats().registered).toBe(1)
    expect(moveMs).toBeLessThan(1000)
    console.log(`[signaling failover] moved to the other server ${moveMs} ms after its server stopped`)

    // A message still goes through, on the new server.
    const other = client([urlA], 'failover-2')
    await other.client.start()
    await openOn(other.client, urlA)
    const got = new Promise<string>((resolve) => {
      other.client.addEventListener('signal', (e) => { resolve(e.detail.from) }, { once: true })
    })
    await c.send('failover-2', { type: 'answer', sdp: 'after the move' })
    expect(await got).toBe('failover-1')
  })

  it('tries every URL once per round and backs off between rounds until one comes back', async () => {
    const [portA, portB] = [await freePort(), await freePort()]
    const urlA = `ws://127.0.0.1:${portA}`
    const urlB = `ws://127.0.0.1:${portB}`
    const { client: c, states } = client([urlA, urlB], 'failover-3')
    await c.start()
    await waitFor('three rounds', () => states.filter((s) => s.status === 'backing-off').length >= 3, 5000, 10)
    // Each round: A then B, at once; then one backoff (saying which URL comes next).
    const rounds = states.map((s) => s.status === 'backing-off' ? '|' : s.url === urlA ? 'A' : 'B').join('')
    expect(rounds.startsWith('AB|AB|AB|')).toBe(true)
    const backoffs = states.filter((s) => s.status === 'backing-off')
    expect(backoffs.map((s) => s.attempt).slice(0, 3)).toEqual([0, 1, 2])
    expect(backoffs.every((s) => s.delay !== undefined && s.delay < 400 && s.url !== undefined)).toBe(true)

    await serve(portB)
    await openOn(c, urlB)
    expect(c.url).toBe(urlB)
  })

  it('keeps working with the single `url` of before', async () => {
    const port = await freePort()
    const server = await serve(port)
    const c = new WebSocketSignaling({ url: `ws://127.0.0.1:${port}`, WebSocket, id: 'failover-4', reconnect: { initialDelay: 50, maxDelay: 200 } })
    clients.push(c)
    await c.start()
    await openOn(c, `ws://127.0.0.1:${port}`)
    expect(c.urls).toEqual([`ws://127.0.0.1:${port}`])
    expect(server.stats().registered).toBe(1)
    expect(() => new WebSocketSignaling({ WebSocket })).toThrow(/url or urls/)
  })
})
