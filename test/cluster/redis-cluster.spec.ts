import { existsSync } from 'node:fs'
import { WebSocketSignaling } from '@chiral/signaling'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { clusterHealth, NODE_BUNDLE, sameMembers, startInstance, stopInstance, waitFor } from './support/cluster.js'
import { WireClient } from './support/raw-client.js'
import { findRedisServer, TestRedis } from './support/redis-server.js'
import type { Instance } from './support/cluster.js'
import type { SignalEvent } from '@chiral/core'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Signaling across three real chiral-node processes that share one real
 * redis-server: one room, signals routed between instances, ids claimed
 * atomically across them, an instance killed, Redis restarted.
 */
const redisBinary = findRedisServer()
if (!redisBinary.ok) console.warn(`Redis cluster tests skipped: ${redisBinary.reason}`)

/** Short, so a killed instance's clients disappear within seconds. */
const TTL = 3000

interface Member { key: PrivateKey, client: WebSocketSignaling, signals: SignalEvent[] }

async function member (url: string, key: PrivateKey): Promise<Member> {
  const client = new WebSocketSignaling({ url, WebSocket, privateKey: key, room: 'lab', reconnect: { initialDelay: 50, maxDelay: 300 } })
  const m: Member = { key, client, signals: [] }
  client.addEventListener('signal', (e) => { m.signals.push(e.detail) })
  await client.start()
  return m
}

describe.skipIf(!redisBinary.ok)('signaling across instances through Redis (3 chiral-node processes, real redis-server)', { timeout: 90_000 }, () => {
  let redis: TestRedis
  let instances: Instance[] = []
  let members: Member[] = []
  const wires: WireClient[] = []

  beforeAll(async () => {
    expect(existsSync(NODE_BUNDLE), 'build the node first: pnpm --filter ./apps/node build').toBe(true)
    redis = await TestRedis.start(redisBinary.ok ? redisBinary.path : '')
    instances = await Promise.all(['one', 'two', 'three'].map(async (name) => startInstance(name, redis.url, TTL)))
    await waitFor('all instances connected to redis', async () => (await Promise.all(instances.map(clusterHealth))).every((h) => h.connected === true))
  })

  afterAll(async () => {
    for (const w of wires) w.close()
    await Promise.all(members.map(async (m) => m.client.stop()))
    await Promise.all(instances.map(stopInstance))
    await redis?.destroy()
  })

  it('puts clients of all instances in one room and routes offers, candidates and answers between them', async () => {
    const health = await Promise.all(instances.map(clusterHealth))
    expect(health.map((h) => [h.mode, h.instanceId, h.state])).toEqual([['redis', 'one', 'ready'], ['redis', 'two', 'ready'], ['redis', 'three', 'ready']])
    const keys = await Promise.all(Array.from({ length: 6 }, async () => generateKeyPair('Ed25519')))
    members = await Promise.all(keys.map(async (key, i) => member(instances[i % 3]!.url, key)))
    const ids = members.map((m) => m.client.id)
    await waitFor('everyone sees the other five', () => members.every((m) => sameMembers(m.client.peers, ids.filter((id) => id !== m.client.id))))

    const started = Date.now()
    let exchanges = 0
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        if (a % 3 === b % 3) continue // same instance: the local path
        const [ma, mb] = [members[a]!, members[b]!]
        const session = `s${a}-${b}`
        await ma.client.send(mb.client.id, { type: 'offer', sdp: `offer ${session}`, session })
        for (let k = 0; k < 3; k++) await ma.client.send(mb.client.id, { type: 'candidate', candidate: { candidate: `candidate:${k}` }, session })
        await waitFor(`offer and candidates ${session}`, () => mb.signals.filter((s) => s.message.session === session).length === 4, 5000, 5)
        const got = mb.signals.filter((s) => s.message.session === session)
        expect(got.every((s) => s.from === ma.client.id)).toBe(true)
        expect(got.map((s) => s.message.type === 'offer' ? s.message.sdp : s.message.type === 'candidate' ? s.message.candidate?.candidate : '')).toEqual([`offer ${session}`, 'candidate:0', 'candidate:1', 'candidate:2'])
        await mb.client.send(ma.client.id, { type: 'answer', sdp: `answer ${session}`, session })
        await waitFor(`answer ${session}`, () => ma.signals.some((s) => s.message.session === session && s.message.type === 'answer' && s.from === mb.client.id), 5000, 5)
        exchanges++
      }
    }
    expect(exchanges).toBe(12)
    console.log(`cluster: 12 cross-instance exchanges (offer + 3 candidates + answer) in ${Date.now() - started} ms`)
  })

  it('keeps ids unique across instances: id-taken for anonymous ids, takeover for signed ones (closed with 4000)', async () => {
    const connect = async (i: number): Promise<WireClient> => {
      const w = await WireClient.connect(instances[i]!.url)
      wires.push(w)
      return w
    }
    const anna1 = await connect(0)
    await anna1.register('anna', 'ids')
    const anna2 = await connect(1)
    await anna2.sendRegister('anna', 'ids')
    expect(await anna2.next()).toMatchObject({ type: 'error', code: 'id-taken' })

    // The same id claimed at once on two instances: exactly one wins, every time.
    for (let round = 0; round < 8; round++) {
      const [x, y] = await Promise.all([connect(round % 3), connect((round + 1) % 3)])
      await Promise.all([x.sendRegister(`race-${round}`, 'ids'), y.sendRegister(`race-${round}`, 'ids')])
      const replies = [(await x.next()).type, (await y.next()).type].sort()
      expect(replies, `round ${round}`).toEqual(['error', 'peers'])
    }

    const watcher = await connect(2)
    await watcher.register('watcher', 'ids')
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const first = await connect(0)
    await first.register(id, 'ids', key)
    await watcher.next((f) => f.type === 'peer-joined' && f.clientId === id)
    const second = await connect(1)
    expect(await second.register(id, 'ids', key)).toEqual(expect.arrayContaining(['anna', 'watcher']))
    expect((await first.waitClosed()).code).toBe(4000)
    watcher.send({ type: 'offer', to: id, sdp: 'to the new connection' })
    expect(await second.next('offer')).toMatchObject({ from: 'watcher', sdp: 'to the new connection' })
    // The room saw no change: the id moved between instances without leaving.
    expect(watcher.inbox.filter((f) => f.clientId === id)).toEqual([])
    expect(watcher.members.has(id)).toBe(true)

    // A released anonymous id is free on every instance.
    anna1.close()
    const anna3 = await connect(1)
    await waitFor('anna free on instance two', async () => {
      await anna3.sendRegister('anna', 'ids')
      return (await anna3.next()).type === 'peers'
    }, 5000, 100)
  })

  it('keeps routing locally while Redis is down, and across instances again once it is back (same port)', async () => {
    const connect = async (i: number, id: string): Promise<WireClient> => {
      const w = await WireClient.connect(instances[i]!.url)
      wires.push(w)
      await w.register(id, 'outage')
      return w
    }
    const [r1, r2, r3] = [await connect(0, 'r1'), await connect(0, 'r2'), await connect(1, 'r3')]
    await waitFor('r1 sees r2 and r3', () => sameMembers(r1.members, ['r2', 'r3']))
    const warnings = (): number => instances[0]!.node.output().split('redis unavailable').length - 1
    const before = warnings()

    await redis.stop()
    await waitFor('instance one notices', async () => (await clusterHealth(instances[0]!)).connected === false, 10_000)
    r1.send({ type: 'offer', to: 'r2', sdp: 'local while down' })
    expect(await r2.next('offer')).toMatchObject({ from: 'r1', sdp: 'local while down' })
    r1.send({ type: 'offer', to: 'r3', sdp: 'across while down' })
    expect(await r1.next('error')).toMatchObject({ code: 'unknown-peer' })
    const r4 = await connect(1, 'r4') // registered while Redis is down: published once it is back
    await new Promise((resolve) => setTimeout(resolve, 2500)) // several reconnect attempts
    expect(warnings() - before, 'one warning per outage, not one per retry').toBe(1)

    const restarted = Date.now()
    await redis.start()
    let n = 0
    const resumed = await waitFor('routing across instances resumes', async () => {
      r1.send({ type: 'offer', to: 'r3', sdp: `after ${n++}` })
      await new Promise((resolve) => setTimeout(resolve, 100))
      return r3.inbox.some((f) => f.type === 'offer' && f.from === 'r1')
    }, 15_000, 0)
    await waitFor('r1 sees r4, registered during the outage', () => sameMembers(r1.members, ['r2', 'r3', 'r4']), 10_000)
    await waitFor('r4 sees r1 and r2', () => sameMembers(r4.members, ['r1', 'r2', 'r3']), 10_000)
    await waitFor('all instances connected again', async () => (await Promise.all(instances.map(clusterHealth))).every((h) => h.connected === true))
    console.log(`cluster: routing across instances resumed ${resumed} ms after redis-server started again (${Date.now() - restarted} ms until all was back)`)
  })

  it('drops a killed instance\'s clients from every peer list within the presence expiry; a client that reconnects elsewhere is routed again', async () => {
    await waitFor('the lab room is whole again after the outage', () => members.every((m) => m.client.peers.length === 5), 10_000)
    const [moving, gone] = [members[2]!, members[5]!] // both on instance three
    const survivors = members.filter((m) => m !== moving && m !== gone)
    const killedAt = Date.now()
    instances[2]!.node.child.kill('SIGKILL')
    await Promise.all([moving.client.stop(), gone.client.stop()])
    const moved = await member(instances[0]!.url, moving.key)
    members.push(moved)
    await waitFor('the moved client registered on instance one', () => moved.client.status === 'open', 10_000)

    await moved.client.send(survivors[1]!.client.id, { type: 'offer', sdp: 'from the moved client' })
    await waitFor('signal from the moved client', () => survivors[1]!.signals.some((s) => s.from === moved.client.id && s.message.type === 'offer'), 5000, 5)
    await survivors[1]!.client.send(moved.client.id, { type: 'answer', sdp: 'to the moved client' })
    await waitFor('signal to the moved client', () => moved.signals.some((s) => s.from === survivors[1]!.client.id), 5000, 5)

    const left = await waitFor('the gone client leaves every list', () => [...survivors, moved].every((m) => !m.client.peers.includes(gone.client.id)), TTL + 5000, 20)
    const sinceKill = Date.now() - killedAt
    expect(sinceKill).toBeLessThan(TTL + 2000)
    expect(left).toBeGreaterThan(0)
    for (const m of survivors) expect(m.client.peers).toContain(moved.client.id)
    console.log(`cluster: a SIGKILLed instance's client left every peer list ${sinceKill} ms after the kill (presence expiry ${TTL} ms)`)
  })
})
