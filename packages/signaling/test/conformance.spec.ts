import { createServer } from 'node:http'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSignalingServer, signChallenge } from '../src/index.js'
import { RawClient, startServer } from './raw-client.js'
import type { SignalingServer } from '../src/index.js'

describe('wire protocol conformance (real ws clients, loopback)', () => {
  let server: SignalingServer
  let url: string
  const clients: RawClient[] = []
  const ready = async (): Promise<{ client: RawClient, nonce: string }> => {
    const r = await RawClient.ready(url)
    clients.push(r.client)
    return r
  }

  beforeAll(async () => {
    ({ server, url } = await startServer({ rateLimit: { burst: 20, perSecond: 5 }, maxMessageBytes: 4096 }))
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await server.stop()
  })

  it('sends a challenge on connect and answers ping with pong before registration', async () => {
    const { client, nonce } = await ready()
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/)
    client.send({ type: 'ping', ts: 1234.5 })
    expect(await client.next()).toEqual({ type: 'pong', ts: 1234.5 })
  })

  it('register returns the room peers (without the client) and deltas reach the room only', async () => {
    const a = (await ready()).client
    const b = (await ready()).client
    const other = (await ready()).client
    expect(await a.register('alice', { room: 'r1' })).toEqual([])
    expect(await other.register('olga', { room: 'r2' })).toEqual([])
    expect(await b.register('bob', { room: 'r1' })).toEqual(['alice'])
    expect(await a.next('peer-joined')).toEqual({ type: 'peer-joined', clientId: 'bob' })
    b.close()
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left', clientId: 'bob' })
    other.send({ type: 'ping', ts: 1 })
    await other.next('pong')
    expect(other.inbox.filter((f) => f.type.startsWith('peer-'))).toEqual([])
  })

  it('no room means the default room', async () => {
    const a = (await ready()).client
    const b = (await ready()).client
    await a.register('d1')
    expect(await b.register('d2')).toContain('d1')
    expect(await a.next('peer-joined')).toEqual({ type: 'peer-joined', clientId: 'd2' })
  })

  it('forwards offer, answer and candidate with a server-stamped from (a spoofed from is overwritten) and keeps session', async () => {
    const a = (await ready()).client
    const b = (await ready()).client
    await a.register('fa')
    await b.register('fb')
    a.send({ type: 'offer', to: 'fb', from: 'mallory', sdp: 'v=0 offer', session: 's1' })
    expect(await b.next('offer')).toEqual({ type: 'offer', from: 'fa', sdp: 'v=0 offer', session: 's1' })
    b.send({ type: 'answer', to: 'fa', sdp: 'v=0 answer', session: 's1' })
    expect(await a.next('answer')).toEqual({ type: 'answer', from: 'fb', sdp: 'v=0 answer', session: 's1' })
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 }
    a.send({ type: 'candidate', to: 'fb', candidate })
    expect(await b.next('candidate')).toEqual({ type: 'candidate', from: 'fa', candidate })
    a.send({ type: 'candidate', to: 'fb', candidate: null, session: 's1' })
    expect(await b.next('candidate')).toEqual({ type: 'candidate', from: 'fa', candidate: null, session: 's1' })
  })

  it('error bad-message: not JSON, unknown type, missing fields, binary frames', async () => {
    const { client } = await ready()
    for (const bad of ['{nope', '{"type":"hello"}', '{"type":"offer","to":"x"}', '[]', '42']) {
      client.send(bad)
      expect(await client.next('error')).toMatchObject({ code: 'bad-message' })
    }
    client.ws.send(new Uint8Array([1, 2, 3]))
    expect(await client.next('error')).toMatchObject({ code: 'bad-message' })
  })

  it('error not-registered: signals before register', async () => {
    const { client } = await ready()
    client.send({ type: 'offer', to: 'fb', sdp: 'x' })
    expect(await client.next('error')).toMatchObject({ code: 'not-registered' })
  })

  it('error unknown-peer: target not registered', async () => {
    const { client } = await ready()
    await client.register('lonely')
    client.send({ type: 'answer', to: 'nobody-here', sdp: 'x' })
    expect(await client.next('error')).toMatchObject({ code: 'unknown-peer' })
  })

  it('error id-taken: an anonymous takeover of a live id fails and the owner keeps it', async () => {
    const owner = (await ready()).client
    const thief = (await ready()).client
    const sender = (await ready()).client
    await owner.register('taken-id')
    thief.send({ type: 'register', clientId: 'taken-id' })
    expect(await thief.next('error')).toMatchObject({ code: 'id-taken' })
    await sender.register('sender-1')
    sender.send({ type: 'offer', to: 'taken-id', sdp: 'still yours' })
    expect(await owner.next('offer')).toMatchObject({ from: 'sender-1', sdp: 'still yours' })
    expect(thief.inbox.filter((f) => f.type === 'offer')).toEqual([])
  })

  it('error too-large: a frame over maxMessageBytes is refused, the connection stays usable', async () => {
    const { client } = await ready()
    client.send({ type: 'ping', ts: 1, pad: 'x'.repeat(5000) })
    expect(await client.next('error')).toMatchObject({ code: 'too-large' })
    client.send({ type: 'ping', ts: 2 })
    expect(await client.next('pong')).toEqual({ type: 'pong', ts: 2 })
  })

  it('closes with 1009 and a reason on a frame over the hard limit', async () => {
    const { client } = await ready()
    client.send('x'.repeat(300 * 1024))
    const closed = await client.waitClosed()
    // 1009 is RFC 6455's "message too big": the code is the reason (ws sends no text with it).
    expect(closed.code).toBe(1009)
  })

  it('error rate-limited: a burst beyond the bucket is refused', async () => {
    const { client } = await ready()
    for (let i = 0; i < 40; i++) client.send({ type: 'ping', ts: i })
    const replies = []
    for (let i = 0; i < 40; i++) replies.push(await client.next())
    const limited = replies.filter((r) => r.type === 'error' && r.code === 'rate-limited').length
    expect(limited).toBeGreaterThanOrEqual(15)
    expect(replies.filter((r) => r.type === 'pong').length).toBeGreaterThanOrEqual(20)
  })

  it('PeerId registration: no or wrong signature gives auth-failed, the right one succeeds', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const { client, nonce } = await ready()
    client.send({ type: 'register', clientId: id })
    expect(await client.next('error')).toMatchObject({ code: 'auth-failed' })
    client.send({ type: 'register', clientId: id, ...(await signChallenge(other, nonce)) })
    expect(await client.next('error')).toMatchObject({ code: 'auth-failed' })
    // A signature over another connection's nonce is a replay: refused.
    const second = await ready()
    client.send({ type: 'register', clientId: id, ...(await signChallenge(key, second.nonce)) })
    expect(await client.next('error')).toMatchObject({ code: 'auth-failed' })
    client.send({ type: 'register', clientId: id, ...(await signChallenge(key, nonce)) })
    expect(await client.next()).toMatchObject({ type: 'peers' })
  })

  it('a signed registration of the same key replaces the stale connection; an anonymous one cannot', async () => {
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const first = await ready()
    await first.client.register(id, { ...(await signChallenge(key, first.nonce)), room: 'takeover' })
    const watcher = (await ready()).client
    await watcher.register('watcher', { room: 'takeover' })
    const second = await ready()
    await second.client.register(id, { ...(await signChallenge(key, second.nonce)), room: 'takeover' })
    expect((await first.client.waitClosed()).code).toBe(4000)
    watcher.send({ type: 'offer', to: id, sdp: 'to the new one' })
    expect(await second.client.next('offer')).toMatchObject({ from: 'watcher', sdp: 'to the new one' })
    expect(watcher.inbox.filter((f) => f.type === 'peer-left')).toEqual([])
  })

  it('anonymous ids are refused when allowAnonymous is false; PeerIds still work', async () => {
    const { server: strict, url: strictUrl } = await startServer({ allowAnonymous: false })
    try {
      const r = await RawClient.ready(strictUrl)
      clients.push(r.client)
      r.client.send({ type: 'register', clientId: 'anon' })
      expect(await r.client.next('error')).toMatchObject({ code: 'auth-failed' })
      const key = await generateKeyPair('Ed25519')
      expect(await r.client.register(peerIdFromPrivateKey(key).toString(), { ...(await signChallenge(key, r.nonce)) })).toEqual([])
    } finally {
      await strict.stop()
    }
  })

  it('error buffer-full: a receiver that does not read gets messages dropped, the sender told', async () => {
    const { server: small, url: smallUrl } = await startServer({ maxSendBuffer: 64 * 1024, rateLimit: { burst: 10_000, perSecond: 10_000 } })
    try {
      const sender = await RawClient.ready(smallUrl)
      const sink = await RawClient.ready(smallUrl)
      clients.push(sender.client, sink.client)
      await sender.client.register('src')
      await sink.client.register('sink')
      sink.client.ws.pause()
      const sdp = 'x'.repeat(60 * 1024)
      let full = false
      for (let i = 0; i < 200 && !full; i++) {
        sender.client.send({ type: 'offer', to: 'sink', sdp })
        if (i % 10 === 9) {
          sender.client.send({ type: 'ping', ts: i })
          await sender.client.next('pong')
          full = sender.client.inbox.some((f) => f.type === 'error' && f.code === 'buffer-full')
        }
      }
      expect(full).toBe(true)
      expect(small.stats().errors['buffer-full']).toBeGreaterThan(0)
      expect(process.memoryUsage().rss).toBeLessThan(2 * 1024 ** 3)
    } finally {
      await small.stop()
    }
  })

  it('error server-full: connections beyond maxClients are closed with 1013', async () => {
    const { server: tiny, url: tinyUrl } = await startServer({ maxClients: 2 })
    try {
      const a = await RawClient.connect(tinyUrl)
      const b = await RawClient.connect(tinyUrl)
      const c = await RawClient.connect(tinyUrl)
      clients.push(a, b, c)
      expect(await c.next('error')).toMatchObject({ code: 'server-full' })
      expect((await c.waitClosed()).code).toBe(1013)
      expect(tiny.stats().errors['server-full']).toBe(1)
    } finally {
      await tiny.stop()
    }
  })

  it('drops clients silent for two heartbeat intervals', async () => {
    const { server: hb, url: hbUrl } = await startServer({ heartbeatInterval: 100 })
    try {
      const { client } = await RawClient.ready(hbUrl)
      clients.push(client)
      // A ws client answers pings itself; silence it by stopping its pong replies.
      ;(client.ws as unknown as { pong: () => void }).pong = () => {}
      const closed = await client.waitClosed(3000)
      expect(closed.code).toBe(1006)
      expect(hb.stats().heartbeatTimeouts).toBe(1)
    } finally {
      await hb.stop()
    }
  })

  it('stop() closes clients with 1001; counters are plain numbers', async () => {
    const { server: s, url: u } = await startServer()
    const a = await RawClient.ready(u)
    await a.client.register('x1', { room: 'r' })
    const stats = s.stats()
    expect(stats).toMatchObject({ clients: 1, registered: 1, rooms: 1 })
    expect(typeof stats.messagesRouted).toBe('number')
    await s.stop()
    expect((await a.client.waitClosed()).code).toBe(1001)
  })

  it('attaches to an existing HTTP server on a path', async () => {
    const http = createServer((_req, res) => { res.end('ok') })
    await new Promise<void>((resolve) => { http.listen(0, '127.0.0.1', resolve) })
    const port = (http.address() as { port: number }).port
    const s = createSignalingServer({ server: http, path: '/signal' })
    await s.start()
    try {
      const { client } = await RawClient.ready(`ws://127.0.0.1:${port}/signal`)
      clients.push(client)
      expect(await client.register('attached')).toEqual([])
      expect(s.address()).toBeUndefined()
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe('ok')
      await expect(RawClient.connect(`ws://127.0.0.1:${port}/elsewhere`)).rejects.toThrow()
    } finally {
      await s.stop()
      await new Promise<void>((resolve) => { http.close(() => { resolve() }) })
    }
  })
})
