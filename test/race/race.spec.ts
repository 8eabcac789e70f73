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
  pathReports: Array<{ path: string, status: string, setupMs?: number, error?: string, bytes?: number, goodput?: number, share?: number }>
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

  it('carries a 64 MiB fetch on both paths, each in proportion to what it measured', async () => {
    const r = await run('both')
    expect(r.hashOk).toBe(true)
    const relay = r.pathReports.find((p) => p.path === 'relay')!
    const direct = r.pathReports.find((p) => p.path === 'webrtc')!
    expect(relay.status).toMatch(/up|down/)
    expect(direct.setupMs).toBeGreaterThanOrEqual(0)
    // Multipath: both carried a real part of the file.
    expect(r.bytesByMethod.relay ?? 0).toBeGreaterThan(4 * 2 ** 20)
    expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBeGreaterThan(4 * 2 ** 20)
    // The path that measured faster carried more, and the method reported is the one that carried most.
    const faster = (relay.goodput ?? 0) >= (direct.goodput ?? 0) ? relay : direct
    const slower = faster === relay ? direct : relay
    if ((faster.goodput ?? 0) > (slower.goodput ?? 0) * 1.3) expect(faster.bytes ?? 0).toBeGreaterThan(slower.bytes ?? 0)
    expect(r.method).toBe((r.bytesByMethod.relay ?? 0) >= (r.bytesByMethod['webrtc-direct'] ?? 0) ? 'relay' : 'webrtc-direct')
  })

  it('completes over the relay without waiting for WebRTC when ICE cannot work (time to first byte < 1 s)', async () => {
    const r = await run('no-webrtc')
    expect(r.hashOk).toBe(true)
    expect(r.method).toBe('relay')
    expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBe(0)
    expect(r.timeToFirstByteMs).toBeLessThan(1000)
    expect(r.durationMs).toBeLessThan(5000) // the WebRTC connect timeout (5 s) was never waited for
  })

  it('a direct path that comes up mid-transfer joins the relay, no byte lost', async () => {
    const r = await run('upgrade')
    expect(r.hashOk).toBe(true)
    expect(r.switches[0]?.to).toBe('relay')
    expect(r.bytesByMethod.relay ?? 0).toBeGreaterThan(0)
    expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBeGreaterThan(0)
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
