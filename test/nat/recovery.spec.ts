import { afterAll, describe, expect, it } from 'vitest'
import { createLab, labSupport, namespacesWithPrefix, PUB_IP, STUN_PORT } from './lab.js'
import { changeMappings, jsonLine, startNode, startPeer } from './lab-processes.js'
import type { Lab, LabInit } from './lab.js'
import type { LabNode } from './lab-processes.js'
import type { ChildProcess } from 'node:child_process'

/**
 * Fetches that survive faults, in the NAT lab with the real chiral-node:
 * the fault comes while the fetch runs, and the same `fetch()` call must
 * finish with the right file, re-sending at most one window.
 *
 * The node caps each relayed connection (`--relay-rate-limit`) so that a
 * transfer lasts long enough for a fault to land in its middle.
 */
const MiB = 2 ** 20
/** The receiver's default window: 8 chunks of 1 MiB. */
const WINDOW_BYTES = 8 * MiB

const support = labSupport()
if (!support.ok) console.warn(`NAT recovery skipped: ${support.reason}`)

interface Run {
  lab: Lab
  node: LabNode
  common: Record<string, unknown>
  shared: Record<string, any>
}

/** Bytes that crossed the paths beyond the file itself: what the faults made the fetch send again. */
function resent (r: Record<string, any>): number {
  const carried = (r.pathReports as Array<{ bytes?: number }>).reduce((n, p) => n + (p.bytes ?? 0), 0)
  return carried - (r.bytes as number)
}

function summary (r: Record<string, any>): string {
  if (typeof r.error === 'string') return `failed: ${r.error}`
  const paths = (r.pathReports as Array<Record<string, any>>).map((p) => `${String(p.path)} ${String(p.status)} ${((p.bytes ?? 0) / MiB).toFixed(1)} MiB${p.error === undefined ? '' : ` (${String(p.error).slice(0, 80)})`}`)
  const recoveries = (r.recoveries as Array<Record<string, any>>).map((x) => `${String(x.backAt - x.lostAt)} ms, ${String(x.attempts)} rounds, back on ${String(x.paths.join('+'))}`)
  const losses = (r.losses as Array<Record<string, any>> | undefined ?? []).map((l) => `${String(l.path)} ${String(l.kind)} ${String(l.error).slice(0, 100)}`)
  return `${(r.durationMs / 1000).toFixed(1)} s, re-sent ${(resent(r) / MiB).toFixed(2)} MiB; paths: ${paths.join('; ')}; recoveries: ${recoveries.join('; ') || 'none'}; losses: ${losses.join('; ') || 'none'}`
}

describe.skipIf(!support.ok)('NAT lab: fetches that survive (real chiral-node)', { timeout: 180_000 }, () => {
  const prefixes: string[] = []

  afterAll(() => {
    for (const prefix of prefixes) expect(namespacesWithPrefix(prefix)).toEqual([])
  })

  async function withLab (init: LabInit, nodeArgs: string[], sizeMiB: number, body: (run: Run) => Promise<void>): Promise<void> {
    const lab = await createLab(init)
    prefixes.push(lab.prefix)
    try {
      const node = await startNode(lab, { args: nodeArgs })
      const common = { relay: node.relay, signalingUrl: node.signalingUrl, stun: `stun:${PUB_IP}:${STUN_PORT}`, signaling: 'hybrid' }
      const sharer = startPeer(lab, lab.namespaces.ha, { ...common, role: 'share', sizeMiB })
      const shared = await jsonLine(sharer, (v) => v.ready === true, 40_000, 'sharer')
      await body({ lab, node, common, shared })
    } finally {
      await lab.destroy()
      expect(lab.liveProcesses()).toBe(0)
      expect(namespacesWithPrefix(lab.prefix)).toEqual([])
    }
  }

  function fetcher (run: Run, settings: Record<string, unknown>): { child: ChildProcess, fault: Promise<Record<string, any>>, result: Promise<Record<string, any>> } {
    const child = startPeer(run.lab, run.lab.namespaces.hb, { ...run.common, role: 'fetch', cid: run.shared.cid, timeoutMs: 120_000, ...settings })
    const fault = jsonLine(child, (v) => v.fault === true, 90_000, 'fetcher (fault point)')
    const result = jsonLine(child, (v) => typeof v.method === 'string' || typeof v.error === 'string', 150_000, 'fetcher')
    fault.catch(() => {})
    result.catch(() => {})
    return { child, fault, result }
  }

  it('every NAT mapping of the sharer\'s home changes mid-transfer: the same fetch completes on new paths', async () => {
    await withLab({ natA: 'port-restricted', natB: 'cone', wan: 'rtt40' }, ['--relay-rate-limit', '3MiB'], 48, async (run) => {
      const f = fetcher(run, { paths: ['relay', 'webrtc'], faultAtMiB: 12 })
      await f.fault
      await changeMappings(run.lab, 'a')
      const r = await f.result
      console.log(`nat recovery (mappings changed): ${summary(r)}`)
      expect(r.error).toBeUndefined()
      expect(r.sha256).toBe(run.shared.sha256)
      // The fault hit: paths were lost (the fetch came back through a recovery, or a background
      // re-dial brought a path back while another still carried).
      expect(r.losses.filter((l: any) => l.kind === 'lost').length).toBeGreaterThan(0)
      expect(resent(r)).toBeLessThanOrEqual(WINDOW_BYTES)
    })
  })

  // Known issue: in about 1 run in 4 this does not recover within the 60 s budget. The sharer
  // has a new reservation, but the node's STOP streams to it keep ending with EOF (cause not
  // found yet). It runs when CHIRAL_NAT_KNOWN_ISSUES=1; the relay + WebRTC cell above covers
  // the same fault in CI.
  it.skipIf(process.env.CHIRAL_NAT_KNOWN_ISSUES !== '1')('relay only: every NAT mapping of the sharer\'s home changes mid-transfer, the relay reservation is made again, the same fetch completes', async () => {
    await withLab({ natA: 'port-restricted', natB: 'cone' }, ['--relay-rate-limit', '2MiB'], 24, async (run) => {
      const f = fetcher(run, { paths: ['relay'], faultAtMiB: 6 })
      await f.fault
      await changeMappings(run.lab, 'a')
      const r = await f.result
      console.log(`nat recovery (mappings changed, relay only): ${summary(r)}`)
      expect(r.error).toBeUndefined()
      expect(r.sha256).toBe(run.shared.sha256)
      expect(r.recoveries).toHaveLength(1)
      expect(r.recoveries[0].paths).toEqual(['relay'])
      expect(resent(r)).toBeGreaterThanOrEqual(0)
      expect(resent(r)).toBeLessThanOrEqual(WINDOW_BYTES)
    })
  })

  it('relay only (symmetric × symmetric), the node crashes and is back 3 s later: the same fetch completes; a shorter budget fails naming the relay path', async () => {
    await withLab({ natA: 'symmetric', natB: 'symmetric' }, ['--relay-rate-limit', '2MiB'], 24, async (run) => {
      const restart = async (node: LabNode): Promise<LabNode> => {
        const exited = new Promise((resolve) => node.child.once('exit', resolve))
        node.child.kill('SIGKILL')
        await exited
        await new Promise((resolve) => setTimeout(resolve, 3000))
        return startNode(run.lab, { stateDir: node.stateDir, args: ['--relay-rate-limit', '2MiB'] })
      }
      // A budget shorter than the outage: given up, and the error says which path died and how.
      const short = fetcher(run, { paths: ['relay'], faultAtMiB: 4, retryBudget: 2000 })
      await short.fault
      let node = await restart(run.node)
      const failed = await short.result
      console.log(`nat recovery (node restart, 2 s budget): ${String(failed.error)}`)
      expect(failed.code).toBe('paths-lost')
      expect(failed.error).toMatch(/relay: lost at \S+ \(/)
      expect(failed.error).toMatch(/none came back within 2 s/)

      // The default budget (a minute) outlasts the outage.
      const f = fetcher(run, { paths: ['relay'], faultAtMiB: 6 })
      await f.fault
      node = await restart(node)
      const r = await f.result
      console.log(`nat recovery (node restart): ${summary(r)}`)
      expect(r.error).toBeUndefined()
      expect(r.sha256).toBe(run.shared.sha256)
      expect(r.recoveries).toHaveLength(1)
      expect(r.recoveries[0].paths).toEqual(['relay'])
      expect(r.recoveries[0].backAt - r.recoveries[0].lostAt).toBeGreaterThanOrEqual(2500)
      expect(resent(r)).toBeGreaterThanOrEqual(0)
      expect(resent(r)).toBeLessThanOrEqual(WINDOW_BYTES)
    })
  })

  it('two fetches in a row from the same peer: the second rides the open direct path (no new peer connection)', async () => {
    await withLab({ natA: 'cone', natB: 'cone' }, ['--relay-rate-limit', '2MiB'], 16, async (run) => {
      const child = startPeer(run.lab, run.lab.namespaces.hb, { ...run.common, role: 'fetch', cid: run.shared.cid, paths: ['relay', 'webrtc'], fetches: 2 })
      const first = await jsonLine(child, (v) => v.run === 1 || typeof v.error === 'string', 90_000, 'fetcher (1st)')
      const second = await jsonLine(child, (v) => v.run === 2 || typeof v.error === 'string', 90_000, 'fetcher (2nd)')
      const direct = (r: Record<string, any>): Record<string, any> => r.pathReports.find((p: any) => p.path === 'webrtc')
      console.log(`nat reuse: 1st ${summary(first)}, webrtc setup ${String(direct(first).setupMs)} ms, first byte ${String(direct(first).firstByteMs)} ms; ` +
        `2nd ${summary(second)}, webrtc setup ${String(direct(second).setupMs)} ms, first byte ${String(direct(second).firstByteMs)} ms; peer connections ${String(first.peerConnectionsCreated)} → ${String(second.peerConnectionsCreated)}`)
      for (const r of [first, second]) {
        expect(r.error).toBeUndefined()
        expect(r.sha256).toBe(run.shared.sha256)
      }
      expect(first.peerConnectionsCreated).toBe(1)
      expect(second.peerConnectionsCreated).toBe(1)
      expect(direct(second).status).toBe('up')
      // No ICE and no DTLS the second time: a channel on the open connection, then its first chunk.
      expect(direct(second).setupMs).toBeLessThan(direct(first).setupMs)
      expect(direct(second).firstByteMs).toBeLessThan(direct(first).firstByteMs)
      expect(second.bytesByMethod['webrtc-direct']).toBeGreaterThan(0)
    })
  })

  it('a relayed connection under 1 % loss with CUBIC on its TCP hops is not aborted while it delivers chunks', async () => {
    await withLab({ natA: 'cone', natB: 'cone', wan: 'rtt40-loss1', tcpCongestion: 'cubic' }, [], 12, async (run) => {
      const f = fetcher(run, { paths: ['relay'] })
      const r = await f.result
      console.log(`nat loss + cubic: ${summary(r)}, ${String(r.mbps)} MB/s`)
      expect(r.error).toBeUndefined()
      expect(r.sha256).toBe(run.shared.sha256)
      // Long enough for libp2p's pings to have judged it more than once.
      expect(r.durationMs).toBeGreaterThan(10_000)
      // Never cut (a ping verdict at either end or at the relay, or our dead-path watchdog): the one
      // relayed path lost nothing and carried the whole file.
      expect(r.losses).toEqual([])
      expect(r.pathReports.map((p: any) => p.status)).toEqual(['up'])
      expect(r.pathReports[0].bytes).toBe(r.bytes)
    })
  })
})
