/**
 * `@chiral/peer` against a real chiral-node on loopback, relay path only (no
 * UDP leaves loopback): what an application sees — events, errors, aborts.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPeer } from '@chiral/peer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChiralNode } from '../browser/support/node-process.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'
import type { ChiralPeer, PeerInit } from '@chiral/peer'

const REPO = new URL('../..', import.meta.url).pathname
const WORK = join(REPO, '.tmp', 'peer-tests')
const NODE_BUNDLE = join(REPO, 'apps', 'node', 'dist', 'chiral-node.mjs')
const MiB = 1024 * 1024
const UNKNOWN = 'bafyreifbo4d6zfu7c7wku7kuebvi5s2fmpaznd2jzcidrqj5754x4eew4u'

describe('@chiral/peer against a real node (relay path)', () => {
  let node: ChiralNodeProcess
  const peers: Array<ChiralPeer<string>> = []
  const peer = async (init: Partial<PeerInit> = {}): Promise<ChiralPeer<string>> => {
    const p = createPeer({ signaling: node.signalingUrl, direct: false, ...init })
    peers.push(p)
    await p.start()
    return p
  }
  const file = (name: string, size: number): string => {
    const path = join(WORK, name)
    writeFileSync(path, randomBytes(size))
    return path
  }

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true })
    mkdirSync(WORK, { recursive: true })
    // 4 MiB/s per relayed connection: a transfer lasts long enough to be cut.
    node = await startChiralNode({ bundle: NODE_BUNDLE, host: '127.0.0.1', workDir: WORK, args: ['--datastore', 'memory', '--relay-rate-limit', '4MiB'] })
  })

  afterAll(async () => {
    await Promise.allSettled(peers.map(async (p) => p.stop()))
    await node?.stop()
    rmSync(WORK, { recursive: true, force: true })
  })

  it('shares and fetches by link, and tells both sides what happened as events', async () => {
    const [a, b] = await Promise.all([peer(), peer()])
    expect(a.state.status).toBe('running')
    expect(a.relays.length).toBeGreaterThan(0) // asked from the node's /health
    const served: Array<{ type: string, peerId?: string, cid?: string, bytes?: number }> = []
    for (const type of ['serve:open', 'serve:content', 'serve:close'] as const) {
      a.addEventListener(type, (e) => { served.push({ type, peerId: e.detail.peerId, cid: e.detail.cid, bytes: e.detail.stats?.bytes }) })
    }
    const seen: string[] = []
    for (const type of ['fetch:finding', 'path:dialing', 'path:up', 'path:switch'] as const) b.addEventListener(type, () => { seen.push(type) })
    const size = 3 * MiB + 17
    const shared = await a.share(file('a.bin', size))
    expect(shared.link).toBe(`${node.signalingUrl.replace(/^ws/, 'http')}/#/download/${shared.cid}`)
    const result = await b.fetch(shared.link!, { destination: join(WORK, 'b') })
    expect(result.bytes).toBe(size)
    expect(result.method).toBe('relay')
    expect(seen.slice(0, 4)).toEqual(['fetch:finding', 'path:dialing', 'path:up', 'path:switch'])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(served.map((s) => s.type)).toEqual(['serve:open', 'serve:content', 'serve:close'])
    expect(served.every((s) => s.peerId === b.peerId)).toBe(true)
    expect(served[2]).toMatchObject({ cid: shared.cid, bytes: size })
  })

  it('fails with aborted whatever the fetch was doing when its signal fired or the peer stopped', async () => {
    const [a, b] = await Promise.all([peer(), peer()])
    // While looking for providers (nobody has it: the search keeps asking).
    const finding = b.fetch(UNKNOWN, { signal: AbortSignal.timeout(800), findTimeout: 10_000 })
    await expect(finding).rejects.toMatchObject({ code: 'aborted' })
    // Without a signal the same search ends with no-providers at its time limit.
    await expect(b.fetch(UNKNOWN, { findTimeout: 1500 })).rejects.toMatchObject({ code: 'no-providers' })
    // Mid-transfer (24 MiB at 4 MiB/s).
    const shared = await a.share(file('big.bin', 24 * MiB))
    const controller = new AbortController()
    const cut = b.fetch(shared.cid, {
      destination: join(WORK, 'cut'),
      signal: controller.signal,
      onProgress: (p) => { if (p.bytes >= 2 * MiB) controller.abort() }
    })
    await expect(cut).rejects.toMatchObject({ code: 'aborted' })
    // A share stopped while hashing.
    await expect(a.share(file('hashing.bin', 64 * MiB), { signal: AbortSignal.timeout(5) })).rejects.toMatchObject({ code: 'aborted' })
    // The peer stopped during a fetch.
    let stopping: Promise<void> | undefined
    const stopped = b.fetch(shared.cid, {
      destination: join(WORK, 'stopped'),
      onProgress: (p) => { if (p.bytes >= 2 * MiB) stopping ??= b.stop() }
    })
    await expect(stopped).rejects.toMatchObject({ code: 'aborted', message: expect.stringContaining('the peer stopped') })
    await stopping
    expect(b.state.status).toBe('stopped')
    await expect(b.fetch(shared.cid)).rejects.toMatchObject({ code: 'not-started' })
  })

  it('fails start() with relay-unreachable, naming the relay, when no reservation comes in time, and leaves nothing running', async () => {
    const relay = node.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws'))!
    const dead = relay.replace(/\/tcp\/\d+\//, '/tcp/9/')
    const p = createPeer({ relays: [dead], relayTimeout: 1500, direct: false })
    await expect(p.start()).rejects.toMatchObject({ code: 'relay-unreachable', message: expect.stringContaining(dead) })
    expect(p.state.status).toBe('stopped')
  })
})
