import { afterAll, describe, expect, it } from 'vitest'
import { createLab, labSupport, namespacesWithPrefix, PUB_IP, STUN_PORT } from './lab.js'
import { jsonLine, startNode, startPeer } from './lab-processes.js'
import type { NatKind } from './lab.js'
import type { WanProfileName } from './wan/profiles.js'

/**
 * The race on a WAN: the NAT lab with delay and loss on both routers' WAN
 * side. Whatever the distance, the fetch verifies, and the bytes follow what
 * each path measured: the path with the higher goodput carried the most
 * (a direct path is not preferred for being direct).
 */
const SIZE_MIB = 16

interface Cell { a: NatKind, b: NatKind, wan: WanProfileName }
const CELLS: Cell[] = (['rtt40', 'rtt100', 'rtt40-loss1'] as const).flatMap((wan) => [
  { a: 'cone' as const, b: 'cone' as const, wan },
  { a: 'symmetric' as const, b: 'symmetric' as const, wan }
])

interface PathReport { path: string, method: string, status: string, bytes?: number, goodput?: number, share?: number, rttMs?: number }

const support = labSupport()
if (!support.ok) console.warn(`WAN race skipped: ${support.reason}`)

describe.skipIf(!support.ok)('the race on an emulated WAN (NAT lab, delay and loss on the routers)', { timeout: 150_000 }, () => {
  const prefixes: string[] = []
  afterAll(() => {
    for (const prefix of prefixes) expect(namespacesWithPrefix(prefix)).toEqual([])
  })

  it.each(CELLS)('$a × $b at $wan: verified, most bytes on the path that measured faster', async (cell) => {
    const lab = await createLab({ natA: cell.a, natB: cell.b, wan: cell.wan })
    prefixes.push(lab.prefix)
    try {
      const node = await startNode(lab)
      const common = { relay: node.relay, signalingUrl: node.signalingUrl, stun: `stun:${PUB_IP}:${STUN_PORT}`, signaling: 'websocket', dcutr: true }
      const sharer = startPeer(lab, lab.namespaces.ha, { ...common, role: 'share', sizeMiB: SIZE_MIB })
      const shared = await jsonLine(sharer, (v) => v.ready === true, 60_000, 'sharer')
      const fetcher = startPeer(lab, lab.namespaces.hb, { ...common, role: 'fetch', cid: shared.cid, paths: ['relay', 'webrtc', 'dcutr'] })
      const r = await jsonLine(fetcher, (v) => typeof v.method === 'string', 120_000, 'fetcher')
      const paths = r.pathReports as PathReport[]
      const carried = paths.filter((p) => (p.bytes ?? 0) > 0)
      console.log(`wan ${cell.a} × ${cell.b} @ ${cell.wan}: ${String(r.mbps)} MB/s, ` +
        paths.map((p) => `${p.path} ${p.status} ${((p.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB @ ${((p.goodput ?? 0) / 1e6).toFixed(1)} MB/s`).join(', '))

      expect(r.sha256).toBe(shared.sha256)
      expect(r.bytes).toBe(SIZE_MIB * 2 ** 20)
      // The link really was long: the relay's round trip (home → relay → home) crosses two delayed egresses.
      const relay = paths.find((p) => p.path === 'relay')!
      expect(relay.rttMs ?? 0).toBeGreaterThanOrEqual(lab.wan!.delayMs * 2)
      if (cell.a === 'symmetric' && cell.b === 'symmetric') {
        // No hole punching between two symmetric NATs: the relay carries everything.
        expect(r.bytesByMethod).toEqual({ relay: SIZE_MIB * 2 ** 20 })
        return
      }
      expect(carried.length).toBeGreaterThan(0)
      // Among paths that carried data and were measured, the fastest carried the most,
      // unless two measured within 30 % of each other (then either may lead).
      const measured = carried.filter((p) => p.goodput !== undefined)
      const fastest = measured.reduce((a, b) => (b.goodput ?? 0) > (a.goodput ?? 0) ? b : a)
      const most = carried.reduce((a, b) => (b.bytes ?? 0) > (a.bytes ?? 0) ? b : a)
      if (most !== fastest) expect((fastest.goodput ?? 0) / (most.goodput ?? 1), `${most.path} carried most but ${fastest.path} measured faster`).toBeLessThan(1.3)
    } finally {
      await lab.destroy()
      expect(lab.liveProcesses()).toBe(0)
      expect(namespacesWithPrefix(lab.prefix)).toEqual([])
    }
  })
})
