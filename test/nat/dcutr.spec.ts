import { afterAll, describe, expect, it } from 'vitest'
import { createLab, labSupport, namespacesWithPrefix, PUB_IP, STUN_PORT } from './lab.js'
import { dropUdpAndCountTcp, jsonLine, routerCounts, startNode, startPeer } from './lab-processes.js'
import type { NatKind } from './lab.js'

/**
 * Direct TCP across NATs (core's `directTcp`, the transport's dcutr path):
 * peer A shares a file, peer B fetches it with the path race (relay, WebRTC,
 * dcutr) while both routers drop all UDP. Where both NATs map endpoint-
 * independently the relayed connection is hole-punched to direct TCP (a
 * simultaneous open, see packages/core/src/presets/direct-tcp/service.ts)
 * and carries most of the bytes; behind a symmetric NAT the punch cannot
 * work and the relay carries the file.
 *
 * The lab's NATs are not changed for this: the punch needs no unsolicited
 * packet to pass (each router has seen its own side's SYN first), so
 * `cone` (whose endpoint-independent filtering covers UDP only) behaves
 * like `port-restricted` here. A cone NAT that also let unsolicited TCP in
 * to a mapped port would not rescue cone × symmetric either: the symmetric
 * side's SYN comes from a port the cone side never dialled, and nothing
 * listens on the punch port (Node cannot share it with a listener), so the
 * cone host answers it with a RST.
 */
const SIZE_MIB = 48

interface Cell { a: NatKind, b: NatKind, expect: 'tcp-direct' | 'relay' }

const CELLS: Cell[] = [
  { a: 'cone', b: 'cone', expect: 'tcp-direct' },
  { a: 'port-restricted', b: 'port-restricted', expect: 'tcp-direct' },
  { a: 'cone', b: 'port-restricted', expect: 'tcp-direct' },
  { a: 'cone', b: 'symmetric', expect: 'relay' },
  { a: 'symmetric', b: 'symmetric', expect: 'relay' }
]

const support = labSupport()
if (!support.ok) console.warn(`NAT dcutr spec skipped: ${support.reason}`)

describe.skipIf(!support.ok)('NAT lab: direct TCP by DCUtR hole punching, UDP dropped', { timeout: 120_000 }, () => {
  const prefixes: string[] = []

  afterAll(() => {
    for (const prefix of prefixes) expect(namespacesWithPrefix(prefix)).toEqual([])
  })

  it.each(CELLS)('$a × $b → $expect', async (cell) => {
    const lab = await createLab({ natA: cell.a, natB: cell.b })
    prefixes.push(lab.prefix)
    try {
      await dropUdpAndCountTcp(lab)
      const node = await startNode(lab)
      const common = { relay: node.relay, signalingUrl: node.signalingUrl, stun: `stun:${PUB_IP}:${STUN_PORT}`, signaling: 'hybrid', dcutr: true }
      const sharer = startPeer(lab, lab.namespaces.ha, { ...common, role: 'share', sizeMiB: SIZE_MIB })
      const shared = await jsonLine(sharer, (v) => v.ready === true, 40_000, 'sharer')
      // An app that wants its bytes off the relay once a direct path is up (the relay
      // carries only until the punch is through): the file completes on direct TCP.
      const fetcher = startPeer(lab, lab.namespaces.hb, { ...common, role: 'fetch', cid: shared.cid, relayUse: { whenDirectUp: 'stop' } })
      const r = await jsonLine(fetcher, (v) => typeof v.method === 'string', 60_000, 'fetcher')
      const a = await routerCounts(lab, 'a')
      const b = await routerCounts(lab, 'b')
      const paths = (r.pathReports as Array<{ path: string, status: string, setupMs?: number, error?: string }>)
      const dcutr = paths.find((p) => p.path === 'dcutr')
      const direct = r.bytesByMethod['tcp-direct'] ?? 0
      console.log(`dcutr ${cell.a} × ${cell.b}: ${r.method as string}, direct ${(direct / 2 ** 20).toFixed(1)} MiB, relay ${((r.bytesByMethod.relay ?? 0) / 2 ** 20).toFixed(1)} MiB, ` +
        `dcutr ${dcutr?.status ?? '?'}${dcutr?.setupMs === undefined ? '' : ` in ${dcutr.setupMs} ms`}, first byte ${String(r.timeToFirstByteMs)} ms, ` +
        `${String(r.mbps)} MB/s, total ${String(r.totalMs)} ms, TCP A→B ${a.tcpToPeerRouter} B→A ${b.tcpToPeerRouter}, UDP dropped ${a.udpDropped + b.udpDropped}`)
      expect(r.sha256).toBe(shared.sha256)
      expect(r.bytes).toBe(SIZE_MIB * 2 ** 20)
      expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBe(0)
      expect(r.method).toBe(cell.expect)
      if (cell.expect === 'tcp-direct') {
        expect(direct / r.bytes).toBeGreaterThan(0.5)
        // The bytes really went router to router over TCP, both ways.
        expect(a.tcpToPeerRouter).toBeGreaterThan(100)
        expect(b.tcpToPeerRouter).toBeGreaterThan(10)
      } else {
        expect(direct).toBe(0)
        // Still punching (each attempt waits out its SYNs) or given up: never up.
        expect(['dialing', 'failed']).toContain(dcutr?.status)
      }
    } finally {
      await lab.destroy()
      expect(lab.liveProcesses()).toBe(0)
      expect(namespacesWithPrefix(lab.prefix)).toEqual([])
    }
  })
})
