/**
 * Two chiral-node instances on loopback, bootstrapped to each other (one DHT,
 * two relays), and `@chiral/peer` peers on them, relay path only (no UDP
 * leaves loopback). The tests run in order on the same two instances:
 *
 *   1. the instances keep each other connected, also across a restart;
 *   2. a peer on instance 1 only is found and fetched from by a peer on
 *      instance 2 only (DHT across instances, circuit through instance 1);
 *   3. a peer given both instances holds a reservation on each; instance 1
 *      is killed: its signaling client moves to instance 2 and it still
 *      fetches, through instance 2.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPeer } from '@chiral/peer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChiralNode } from '../browser/support/node-process.js'
import { freePort, health, sha256File, waitFor, writeNodeKey } from './support.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'
import type { ChiralPeer, PeerInit } from '@chiral/peer'

const REPO = new URL('../..', import.meta.url).pathname
const WORK = join(REPO, '.tmp', 'multi-node')
const NODE_BUNDLE = join(REPO, 'apps', 'node', 'dist', 'chiral-node.mjs')
const MiB = 1024 * 1024

interface Instance {
  name: string
  dir: string
  peerId: string
  tcpPort: number
  httpPort: number
  /** Its TCP multiaddr, for the other's --bootstrap. */
  addr: string
  process?: ChiralNodeProcess
}

describe('two node instances: one DHT, two relays, clients that fail over', () => {
  const instances: Instance[] = []
  const peers: Array<ChiralPeer<string>> = []
  let inst1: Instance
  let inst2: Instance

  const url = (i: Instance): string => `ws://127.0.0.1:${i.httpPort}`
  const http = (i: Instance): string => `http://127.0.0.1:${i.httpPort}`
  const start = async (i: Instance, bootstrap: Instance[]): Promise<void> => {
    i.process = await startChiralNode({
      bundle: NODE_BUNDLE,
      host: '127.0.0.1',
      workDir: i.dir,
      args: ['--datastore', 'memory', '--port', String(i.httpPort), '--tcp-port', String(i.tcpPort), ...bootstrap.flatMap((b) => ['--bootstrap', b.addr])]
    })
  }
  const kill = async (i: Instance): Promise<void> => {
    const child = i.process?.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => { child.once('exit', resolve) })
    child.kill('SIGKILL')
    await exited
  }
  const connectedTo = async (from: Instance, to: Instance): Promise<boolean> =>
    (await health(http(from))).bootstrap.some((b) => b.peerId === to.peerId && b.connected)
  const peer = async (init: PeerInit): Promise<ChiralPeer<string>> => {
    const p = createPeer({ direct: false, ...init })
    peers.push(p)
    await p.start()
    return p
  }
  const file = (name: string, size: number): string => {
    const path = join(WORK, name)
    writeFileSync(path, randomBytes(size))
    return path
  }
  /** The relays (peer ids) `p` holds a reservation on, from its circuit addresses. */
  const reservedOn = (p: ChiralPeer<string>): string[] =>
    [...new Set(p.relayAddresses.map((a) => /\/p2p\/([^/]+)\/p2p-circuit/.exec(a)?.[1]).filter((id): id is string => id !== undefined))]
  /** Remote addresses of `p`'s connections to `remote` opened from now on. */
  const connectionsTo = (p: ChiralPeer<string>, remote: string): string[] => {
    const seen: string[] = []
    p.components.node.addEventListener('connection:open', (e) => {
      if (e.detail.remotePeer.toString() === remote) seen.push(e.detail.remoteAddr.toString())
    })
    return seen
  }

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true })
    mkdirSync(WORK, { recursive: true })
    for (const name of ['instance-1', 'instance-2']) {
      const dir = join(WORK, name)
      const peerId = await writeNodeKey(dir)
      const tcpPort = await freePort()
      instances.push({ name, dir, peerId, tcpPort, httpPort: await freePort(), addr: `/ip4/127.0.0.1/tcp/${tcpPort}/p2p/${peerId}` })
    }
    ;[inst1, inst2] = instances as [Instance, Instance]
    // Each is told about the other (and, as one shared list would, about itself: skipped).
    const list = [inst1, inst2]
    await Promise.all([start(inst1, list), start(inst2, list)])
  })

  afterAll(async () => {
    await Promise.allSettled(peers.map(async (p) => p.stop()))
    await Promise.allSettled(instances.map(async (i) => i.process?.stop()))
    rmSync(WORK, { recursive: true, force: true })
  })

  it('keeps the instances connected to each other, and reconnects when one comes back', async () => {
    const linkMs = await waitFor('instances connected', async () => await connectedTo(inst1, inst2) && await connectedTo(inst2, inst1), 10_000)
    const h1 = await health(http(inst1))
    // Its own address is not a bootstrap peer; the other's is, connected.
    expect(h1.bootstrap).toEqual([{ multiaddr: inst2.addr, peerId: inst2.peerId, connected: true }])
    expect(h1.signalingUrls).toEqual([url(inst1)])
    expect(h1.signalingUrl).toBe(url(inst1))

    // Instance 2 dies and comes back at the same address, this time told about nobody:
    // instance 1 must get back to it on its own.
    await kill(inst2)
    await waitFor('instance 1 notices', async () => !(await connectedTo(inst1, inst2)), 5000)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await start(inst2, [])
    const backMs = await waitFor('instance 1 reconnects', async () => connectedTo(inst1, inst2), 15_000)
    expect((await health(http(inst2))).bootstrap).toEqual([])
    console.log(`[multi-node] instances linked ${linkMs} ms after start; instance 1 reconnected ${backMs} ms after instance 2 was back (down 1.5 s)`)
  })

  it('a peer on instance 2 finds a peer on instance 1 through the DHT and fetches from it through instance 1\'s relay', async () => {
    const [a, b] = await Promise.all([peer({ signaling: url(inst1) }), peer({ signaling: url(inst2) })])
    expect(reservedOn(a)).toEqual([inst1.peerId])
    expect(reservedOn(b)).toEqual([inst2.peerId])

    const path = file('from-a.bin', 2 * MiB + 5)
    const shared = await a.share(path)
    // B's search starts at instance 2, the only server it is given. The record
    // may be on instance 1 only: js kad-dht follows a server's answer only to
    // peers closer to the key than that server, so A (which starts at
    // instance 1) skips instance 2 when it is the farther one; instance 2 then
    // answers B with instance 1 as the closer peer, and B finds it there.
    const toA = connectionsTo(b, a.peerId)
    const startedAt = Date.now()
    let foundMs: number | undefined
    b.addEventListener('path:dialing', () => { foundMs ??= Date.now() - startedAt })
    const result = await b.fetch(shared.cid, { destination: join(WORK, 'b') })
    const fetchMs = Date.now() - startedAt
    expect(result.bytes).toBe(2 * MiB + 5)
    expect(result.method).toBe('relay')
    expect(sha256File((result as { path?: string }).path!)).toBe(sha256File(path))
    // The bytes came through instance 1's relay: the circuit address A reserved there.
    expect(toA.length).toBeGreaterThan(0)
    expect(toA.every((addr) => addr.includes(`/p2p/${inst1.peerId}/p2p-circuit`))).toBe(true)
    expect(foundMs).toBeDefined()
    console.log(`[multi-node] provider on instance 1 found from instance 2 in ${foundMs} ms; fetch done in ${fetchMs} ms`)
  })

  it('a peer given both instances holds a reservation on each; when instance 1 is killed it moves to instance 2 and still fetches', async () => {
    const c = await peer({ signaling: [url(inst1), url(inst2)] })
    expect(c.relays.some((r) => r.endsWith(inst1.peerId)) && c.relays.some((r) => r.endsWith(inst2.peerId))).toBe(true)
    await waitFor('two reservations', () => reservedOn(c).length === 2, 10_000)
    expect(reservedOn(c).sort()).toEqual([inst1.peerId, inst2.peerId].sort())
    expect(c.signalingUrl).toBe(url(inst1))

    // A provider on instance 2 only.
    const d = await peer({ signaling: url(inst2) })
    const path = file('from-d.bin', 2 * MiB + 11)
    const shared = await d.share(path)

    const moves: Array<{ status: string, url?: string, at: number }> = []
    c.addEventListener('signaling', (e) => { moves.push({ status: e.detail.status, ...(e.detail.url === undefined ? {} : { url: e.detail.url }), at: Date.now() }) })
    const killedAt = Date.now()
    await kill(inst1)
    await waitFor('signaling on instance 2', () => c.signalingUrl === url(inst2) && moves.at(-1)?.status === 'open', 5000, 5)
    const failoverMs = moves.at(-1)!.at - killedAt
    // Straight to the next URL: no backoff, no second try of the dead one.
    expect(moves.map((m) => ({ status: m.status, url: m.url }))).toEqual([{ status: 'connecting', url: url(inst2) }, { status: 'open', url: url(inst2) }])
    // Still reachable through instance 2.
    await waitFor('reservation on instance 1 gone', () => !reservedOn(c).includes(inst1.peerId), 5000)
    expect(reservedOn(c)).toEqual([inst2.peerId])

    const toD = connectionsTo(c, d.peerId)
    const startedAt = Date.now()
    const result = await c.fetch(shared.cid, { destination: join(WORK, 'c') })
    const fetchMs = Date.now() - startedAt
    expect(result.bytes).toBe(2 * MiB + 11)
    expect(sha256File((result as { path?: string }).path!)).toBe(sha256File(path))
    expect(toD.length).toBeGreaterThan(0)
    expect(toD.every((addr) => addr.includes(`/p2p/${inst2.peerId}/p2p-circuit`))).toBe(true)
    console.log(`[multi-node] signaling moved to instance 2 ${failoverMs} ms after instance 1 was killed; fetch through instance 2 done in ${fetchMs} ms`)
  })
})
