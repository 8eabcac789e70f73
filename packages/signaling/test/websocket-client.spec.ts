import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { backoffDelay, localStoragePeerListStore, memoryPeerListStore } from '../src/index.js'
import { nextSignal, untilOpen, wsClient } from './client-helpers.js'
import { startServer } from './raw-client.js'
import type { SignalingServer, WebSocketSignaling } from '../src/index.js'

describe('WebSocketSignaling client against a real server', () => {
  let server: SignalingServer
  let url: string
  const started: WebSocketSignaling[] = []
  const client = async (init: Parameters<typeof wsClient>[1] = {}): Promise<WebSocketSignaling> => {
    const c = wsClient(url, init)
    started.push(c)
    await c.start()
    await untilOpen(c)
    return c
  }

  beforeAll(async () => { ({ server, url } = await startServer()) })
  afterAll(async () => {
    await Promise.all(started.map(async (c) => c.stop()))
    await server.stop()
  })

  it('exchanges offer, answer and candidates with session kept and route websocket', async () => {
    const a = await client({ id: 'client-a' })
    const b = await client({ id: 'client-b' })
    const got = nextSignal(b)
    expect(await a.send('client-b', { type: 'offer', sdp: 'v=0', session: 'sess-1' })).toBe('websocket')
    expect(await got).toEqual({ from: 'client-a', route: 'websocket', message: { type: 'offer', sdp: 'v=0', session: 'sess-1' } })
    const answer = nextSignal(a)
    await b.send('client-a', { type: 'answer', sdp: 'v=0 a', session: 'sess-1' })
    expect((await answer).message).toEqual({ type: 'answer', sdp: 'v=0 a', session: 'sess-1' })
    const cand = nextSignal(a)
    await b.send('client-a', { type: 'candidate', candidate: { candidate: 'candidate:0 1 UDP 1 127.0.0.1 1 typ host', sdpMid: '0' }, session: 'sess-1' })
    expect((await cand).message).toMatchObject({ type: 'candidate', session: 'sess-1' })
  })

  it('tracks the room peer list through peers / peer-joined / peer-left, and persists it', async () => {
    const store = memoryPeerListStore()
    const a = await client({ id: 'room-a', room: 'lobby', peerStore: store })
    expect(a.peers).toEqual([])
    const joined = new Promise<string>((resolve) => { a.addEventListener('peer-joined', (e) => { resolve(e.detail) }, { once: true }) })
    const b = await client({ id: 'room-b', room: 'lobby' })
    expect(b.peers).toEqual(['room-a'])
    expect(await joined).toBe('room-b')
    expect(a.peers).toEqual(['room-b'])
    expect(store.load()).toEqual(['room-b'])
    const left = new Promise<string>((resolve) => { a.addEventListener('peer-left', (e) => { resolve(e.detail) }, { once: true }) })
    await b.stop()
    expect(await left).toBe('room-b')
    expect(a.peers).toEqual([])
  })

  it('loads a saved peer list at start (localStorage-style store)', async () => {
    const memory = new Map<string, string>()
    const storage = { getItem: (k: string) => memory.get(k) ?? null, setItem: (k: string, v: string) => { memory.set(k, v) } }
    localStoragePeerListStore('k', storage).save(['x', 'y'])
    const c = wsClient(url, { id: 'loader', room: 'empty-room', peerStore: localStoragePeerListStore('k', storage) })
    started.push(c)
    const first = new Promise<string[]>((resolve) => { c.addEventListener('peers', (e) => { resolve(e.detail) }, { once: true }) })
    await c.start()
    expect(await first).toEqual(['x', 'y'])
    await untilOpen(c)
    expect(c.peers).toEqual([])
    expect(memory.get('k')).toBe('[]')
  })

  it('registers a PeerId with a signed challenge', async () => {
    const key = await generateKeyPair('Ed25519')
    const p = await client({ privateKey: key })
    expect(p.id).toBe(peerIdFromPrivateKey(key).toString())
    const anon = await client({ id: 'anon-sender' })
    const got = nextSignal(p)
    await anon.send(p.id, { type: 'offer', sdp: 'to a peer id' })
    expect((await got).from).toBe('anon-sender')
  })

  it('reports server errors as typed events and keeps retrying a refused registration', async () => {
    await client({ id: 'dup-id' })
    const dup = wsClient(url, { id: 'dup-id' })
    started.push(dup)
    const refused = new Promise<string>((resolve) => { dup.addEventListener('server-error', (e) => { resolve(e.detail.code) }, { once: true }) })
    await dup.start()
    expect(await refused).toBe('id-taken')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(['connecting', 'backing-off']).toContain(dup.status)
  })

  it('refuses sends before start and beyond the queue bound while disconnected', async () => {
    const idle = wsClient('ws://127.0.0.1:1/', { id: 'never' })
    await expect(idle.send('x', { type: 'offer', sdp: '' })).rejects.toMatchObject({ code: 'not-started' })
    const offline = wsClient('ws://127.0.0.1:1/', { id: 'offline', maxQueue: 2 })
    await offline.start()
    const q1 = offline.send('x', { type: 'offer', sdp: '1' })
    const q2 = offline.send('x', { type: 'offer', sdp: '2' })
    await expect(offline.send('x', { type: 'offer', sdp: '3' })).rejects.toMatchObject({ code: 'signaling-queue-full' })
    await offline.stop()
    await expect(q1).rejects.toMatchObject({ code: 'signaling-unavailable' })
    await expect(q2).rejects.toMatchObject({ code: 'signaling-unavailable' })
  })

  it('reconnects on its own when the server goes silent (heartbeat)', async () => {
    // A server that registers the client and then never answers again.
    const mute = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise<void>((resolve) => { mute.once('listening', resolve) })
    let connections = 0
    mute.on('connection', (ws) => {
      connections++
      ws.send(JSON.stringify({ type: 'challenge', nonce: 'n' }))
      ws.once('message', () => { ws.send(JSON.stringify({ type: 'peers', peers: [] })) })
    })
    const c = wsClient(`ws://127.0.0.1:${(mute.address() as { port: number }).port}`, { id: 'hb', heartbeatInterval: 100 })
    const states: string[] = []
    c.addEventListener('state', (e) => { states.push(e.detail.status) })
    try {
      await c.start()
      await untilOpen(c)
      await new Promise((resolve) => setTimeout(resolve, 700))
      expect(connections).toBeGreaterThanOrEqual(2)
      expect(states.slice(0, 4)).toEqual(['connecting', 'open', 'backing-off', 'connecting'])
    } finally {
      await c.stop()
      for (const ws of mute.clients) ws.terminate()
      await new Promise<void>((resolve) => { mute.close(() => { resolve() }) })
    }
  })

  it('backoff delays are full-jitter, exponential and capped', () => {
    expect(backoffDelay(0, { initialDelay: 100, maxDelay: 1000 }, () => 0.999)).toBe(99)
    expect(backoffDelay(3, { initialDelay: 100, maxDelay: 1000 }, () => 0.5)).toBe(400)
    expect(backoffDelay(50, { initialDelay: 100, maxDelay: 1000 }, () => 0.999)).toBe(999)
    expect(backoffDelay(5, {}, () => 0)).toBe(0)
  })
})
