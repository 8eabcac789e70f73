import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNetns, netnsSupport, runNodeScript } from '../../packages/transport/test/support/netns.js'
import type { Netns } from '../../packages/transport/test/support/netns.js'

const SCENARIO = fileURLToPath(new URL('./scenario.ts', import.meta.url))
const support = await netnsSupport()
if (!support.ok) console.warn(`race tests skipped: ${support.reason}`)

interface Outcome {
  mode: string
  bytes: number
  hashOk: boolean
  method: string
  bytesByMethod: Record<string, number>
  pathReports: Array<{ path: string, status: string, setupMs?: number, error?: string }>
  switches: Array<{ from?: string, to: string, atBytes: number }>
  timeToFirstByteMs?: number
  durationMs: number
  killedAt?: number
}

describe.skipIf(!support.ok)('the path race between two Node peers (relay + direct WebRTC, in a network namespace)', () => {
  let ns: Netns
  const run = async (mode: string, sizeMiB = 64): Promise<Outcome> => {
    const { result } = await runNodeScript<Outcome>(ns, SCENARIO, { args: [mode, String(sizeMiB)], signal: AbortSignal.timeout(90_000) })
    console.log(`race ${mode}: method ${result.method}, bytes ${JSON.stringify(result.bytesByMethod)}, ttfb ${String(result.timeToFirstByteMs)} ms, ` +
      `${result.durationMs} ms, setup ${result.pathReports.map((p) => `${p.path}=${String(p.setupMs)}ms/${p.status}`).join(' ')}, switches ${result.switches.map((s) => `${s.to}@${s.atBytes}`).join(' → ')}`)
    return result
  }

  beforeAll(async () => { ns = await createNetns({ prefix: 'chiral-race' }) })
  afterAll(async () => { await ns?.delete() })

  it('carries a 64 MiB fetch on the direct path when both paths work (≥ 90% of bytes direct)', async () => {
    const r = await run('both')
    expect(r.hashOk).toBe(true)
    expect(r.method).toBe('webrtc-direct')
    const direct = r.bytesByMethod['webrtc-direct'] ?? 0
    expect(direct / r.bytes).toBeGreaterThanOrEqual(0.9)
    expect(r.pathReports.find((p) => p.path === 'webrtc')?.setupMs).toBeGreaterThanOrEqual(0)
    expect(r.pathReports.find((p) => p.path === 'relay')?.status).toMatch(/up|down/)
  })

  it('completes over the relay without waiting for WebRTC when ICE cannot work (time to first byte < 1 s)', async () => {
    const r = await run('no-webrtc')
    expect(r.hashOk).toBe(true)
    expect(r.method).toBe('relay')
    expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBe(0)
    expect(r.timeToFirstByteMs).toBeLessThan(1000)
    expect(r.durationMs).toBeLessThan(5000) // the WebRTC connect timeout (5 s) was never waited for
  })

  it('upgrades mid-transfer: starts on the relay, moves to direct, no byte lost', async () => {
    const r = await run('upgrade')
    expect(r.hashOk).toBe(true)
    expect(r.bytesByMethod.relay ?? 0).toBeGreaterThan(0)
    expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBeGreaterThan(0)
    expect(r.switches.map((s) => s.to)).toEqual(['relay', 'webrtc'])
    expect(r.switches[1]!.atBytes).toBeGreaterThan(0)
  })

  it('downgrades when the direct path dies mid-transfer: completes on the relay', async () => {
    const r = await run('downgrade')
    expect(r.hashOk).toBe(true)
    expect(r.killedAt).toBeGreaterThan(0)
    expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBeGreaterThan(0)
    expect(r.bytesByMethod.relay ?? 0).toBeGreaterThan(0)
    expect(r.switches.at(-1)?.to).toBe('relay')
    expect(r.pathReports.find((p) => p.path === 'webrtc')?.status).toBe('down')
  })
})
