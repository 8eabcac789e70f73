import { createSignalingServer, redisCluster } from '@chiral/signaling'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sameMembers, waitFor } from './support/cluster.js'
import { WireClient } from './support/raw-client.js'
import { findRedisServer, TestRedis } from './support/redis-server.js'
import type { SignalingServer } from '@chiral/signaling'

/**
 * Two signaling servers in this process sharing a real redis-server: the
 * cases the multi-process suite does not reach (a clean stop, a takeover
 * into another room, a server started while Redis is down).
 */
const redisBinary = findRedisServer()
if (!redisBinary.ok) console.warn(`Redis cluster tests skipped: ${redisBinary.reason}`)

describe.skipIf(!redisBinary.ok)('signaling servers sharing Redis (in process)', { timeout: 30_000 }, () => {
  let redis: TestRedis
  let servers: SignalingServer[] = []
  let clients: WireClient[] = []

  beforeAll(async () => {
    redis = await TestRedis.start(redisBinary.ok ? redisBinary.path : '')
  })
  afterEach(async () => {
    for (const c of clients) c.close()
    await Promise.all(servers.map(async (s) => s.stop()))
    servers = []
    clients = []
  })
  afterAll(async () => { await redis?.destroy() })

  const server = async (instanceId: string, keyPrefix: string): Promise<string> => {
    const s = createSignalingServer({ port: 0, host: '127.0.0.1', cluster: redisCluster({ url: redis.url, instanceId, keyPrefix, presenceTtl: 1500 }) })
    servers.push(s)
    await s.start()
    return `ws://127.0.0.1:${s.address()!.port}`
  }
  const client = async (url: string, id: string, room: string, key?: Parameters<WireClient['register']>[2]): Promise<WireClient> => {
    const c = await WireClient.connect(url)
    clients.push(c)
    await c.register(id, room, key)
    return c
  }

  it('a cleanly stopped server\'s clients leave the other servers\' rooms at once, not after the expiry', async () => {
    const [u1, u2] = [await server('a', 'stop:'), await server('b', 'stop:')]
    await client(u1, 'leaving', 'r')
    const staying = await client(u2, 'staying', 'r')
    expect(staying.members.has('leaving')).toBe(true)
    const stoppedAt = Date.now()
    await servers[0]!.stop()
    await staying.next((f) => f.type === 'peer-left' && f.clientId === 'leaving', 1000)
    expect(Date.now() - stoppedAt).toBeLessThan(1000)
    staying.send({ type: 'offer', to: 'leaving', sdp: 'x' })
    expect(await staying.next('error')).toMatchObject({ code: 'unknown-peer' })
  })

  it('a signed takeover into another room: the old room sees peer-left, the new one peer-joined', async () => {
    const [u1, u2] = [await server('a', 'move:'), await server('b', 'move:')]
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const inOld = await client(u2, 'old-watcher', 'old')
    const inNew = await client(u1, 'new-watcher', 'new')
    const first = await client(u1, id, 'old', key)
    await inOld.next((f) => f.type === 'peer-joined' && f.clientId === id)
    const second = await client(u2, id, 'new', key)
    expect((await first.waitClosed()).code).toBe(4000)
    await inOld.next((f) => f.type === 'peer-left' && f.clientId === id)
    await inNew.next((f) => f.type === 'peer-joined' && f.clientId === id)
    expect(second.members).toEqual(new Set(['new-watcher']))
    inNew.send({ type: 'answer', to: id, sdp: 'moved' })
    expect(await second.next('answer')).toMatchObject({ from: 'new-watcher', sdp: 'moved' })
  })

  it('a server started while Redis is down serves locally, then joins the cluster by itself', async () => {
    const u1 = await server('a', 'late:')
    const early = await client(u1, 'early', 'r')
    await redis.stop()
    try {
      const u2 = await server('b', 'late:')
      expect(servers[1]!.clusterStatus()).toMatchObject({ mode: 'redis', instanceId: 'b', connected: false, state: 'unavailable' })
      const local1 = await client(u2, 'local-1', 'r')
      const local2 = await client(u2, 'local-2', 'r')
      local1.send({ type: 'offer', to: 'local-2', sdp: 'while down' })
      expect(await local2.next('offer')).toMatchObject({ from: 'local-1' })
    } finally {
      await redis.start()
    }
    await waitFor('both servers connected', () => servers.every((s) => s.clusterStatus().mode === 'redis' && (s.clusterStatus() as { connected: boolean }).connected), 10_000)
    await waitFor('one room again', () => sameMembers(early.members, ['local-1', 'local-2']), 10_000)
    early.send({ type: 'offer', to: 'local-1', sdp: 'across' })
    expect(await clients[1]!.next('offer')).toMatchObject({ from: 'early', sdp: 'across' })
  })
})
