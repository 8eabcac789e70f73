import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createDiscovery, createManifest, createNode, waitForRelayReservation } from '@chiral/core'
import { afterEach, describe, expect, it } from 'vitest'
import { BUNDLE, startNodeProcess, stopNodeProcess, tempDir } from './support.js'
import type { NodeProcess } from './support.js'
import type { ChiralNode, ContentDiscovery } from '@chiral/core'

interface Health { counts: { providerRecords: number } }

describe('chiral-node datastore (built bundle)', () => {
  const nodes: NodeProcess[] = []
  const running: Array<{ stop: () => Promise<void> | void }> = []

  afterEach(async () => {
    for (const s of running.splice(0).reverse()) await s.stop()
    for (const n of nodes.splice(0)) await stopNodeProcess(n)
  })

  const start = async (args: string[], dir: string): Promise<NodeProcess> => {
    const node = await startNodeProcess(args, { cwd: dir, keyFile: join(dir, 'node.key') })
    nodes.push(node)
    return node
  }

  const peer = async (node: NodeProcess): Promise<{ node: ChiralNode, discovery: ContentDiscovery }> => {
    const relay = node.multiaddrs.find((a) => !a.includes('/ws/'))!
    const p = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true })
    await p.start()
    running.push(p)
    await waitForRelayReservation(p, { signal: AbortSignal.timeout(10_000) })
    // No re-announce when the node comes back: what is found after the restart comes from the node's disk.
    const discovery = createDiscovery(p, { reannounceOnReturn: false })
    await discovery.start()
    running.push(discovery)
    return { node: p, discovery }
  }

  const providerRecords = async (node: NodeProcess): Promise<number> =>
    ((await (await fetch(`${node.httpUrl}/health`)).json()) as Health).counts.providerRecords

  const findIds = async (discovery: ContentDiscovery, cid: string): Promise<string[]> => {
    const found: string[] = []
    try {
      for await (const p of discovery.findProviders(cid, { signal: AbortSignal.timeout(5000) })) found.push(p.peerId.toString())
    } catch (err) {
      if ((err as Error).name !== 'NoProvidersError') throw err
    }
    return found
  }

  /**
   * A peer announces on the node; the node stops (SIGTERM) and starts again
   * with the same key file and `args`, on new ports, so the peer cannot get
   * back to it and announce again. What does a new peer find?
   */
  const announceRestartFind = async (args: string[]): Promise<{ before: number, after: number, found: string[], sharer: string, dir: string }> => {
    const dir = tempDir()
    const first = await start(args, dir)
    const sharer = await peer(first)
    const { cid } = await createManifest([new TextEncoder().encode(`kept ${Math.random()}`)])
    await sharer.discovery.announce(cid, { signal: AbortSignal.timeout(15_000) })
    const before = await providerRecords(first)
    await stopNodeProcess(first)
    expect((await first.exited).code).toBe(0)

    const second = await start(args, dir)
    expect(second.peerId).toBe(first.peerId)
    const after = await providerRecords(second)
    const fetcher = await peer(second)
    return { before, after, found: await findIds(fetcher.discovery, cid.toString()), sharer: sharer.node.peerId.toString(), dir }
  }

  it('keeps provider records across a restart in the default folder next to the key file', async () => {
    const r = await announceRestartFind([])
    expect(r.before).toBeGreaterThan(0)
    expect(r.after).toBe(r.before)
    expect(r.found).toEqual([r.sharer])
    expect(existsSync(join(r.dir, 'chiral-node.datastore', 'dht', 'provider'))).toBe(true)
    const metrics = await (await fetch(`${nodes.at(-1)!.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/^chiral_dht_provider_records [1-9]/m)
  })

  it('keeps them in the folder --datastore names', async () => {
    const dir = tempDir()
    const store = join(dir, 'state', 'records')
    const r = await announceRestartFind(['--datastore', store])
    expect(r.after).toBeGreaterThan(0)
    expect(r.found).toEqual([r.sharer])
    expect(readdirSync(store)).toContain('dht')
    expect(existsSync(join(r.dir, 'chiral-node.datastore'))).toBe(false)
  })

  it('forgets them with --datastore memory (so the cases above are not luck)', async () => {
    const r = await announceRestartFind(['--datastore', 'memory'])
    expect(r.before).toBeGreaterThan(0)
    expect(r.after).toBe(0)
    expect(r.found).toEqual([])
    expect(readdirSync(r.dir)).not.toContain('chiral-node.datastore')
  })

  it.each([
    ['a file', (dir: string) => { writeFileSync(join(dir, 'taken'), 'x'); return join(dir, 'taken') }, /cannot use datastore folder .*taken: it is not a folder/],
    ['below a file', (dir: string) => { writeFileSync(join(dir, 'taken'), 'x'); return join(dir, 'taken', 'records') }, /cannot use datastore folder .*taken\/records: ENOTDIR/],
    ['empty', () => '', /--datastore must be a folder or "memory"/]
  ])('exits 2 with one line when the datastore folder is %s', (_what, path, message) => {
    const dir = tempDir()
    const result = spawnSync(process.execPath, [BUNDLE, '--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--ws-port', '0', '--key-file', join(dir, 'node.key'), '--datastore', path(dir)], { encoding: 'utf8', timeout: 10_000, cwd: dir })
    expect(result.status).toBe(2)
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('chiral-node:'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(message)
    expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
  })
})
