/**
 * The same two processes connect over the WebRTC path again and again, the
 * way a race opens several connections to one peer: back-to-back dials (each
 * starting while the previous connection is still half-closed), concurrent
 * dials, and dials started while the previous channel is still open. Every
 * one must connect and carry its message; nothing may be left open. (Before
 * the fix, about one back-to-back dial in five failed its DTLS handshake
 * with "unknown CA / certificate verify failed"; see WebRTCSession.)
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNetns, netnsSupport, spawnNodeScript } from './support/netns.js'
import { linkChildren } from './support/stdio-signaling.js'
import type { Netns } from './support/netns.js'
import type { DialPlan, DialerResult, ListenerResult } from './support/webrtc-dial-peer.js'

const script = fileURLToPath(new URL('./support/webrtc-dial-peer.ts', import.meta.url))
const support = await netnsSupport()
if (!support.ok) console.warn(`[webrtc-repeated-dials.spec] skipped: ${support.reason}`)

describe.skipIf(!support.ok)('webrtc path: repeated dials between the same two processes (network namespace)', () => {
  let ns: Netns | undefined

  beforeAll(async () => {
    ns = await createNetns({ prefix: 'chiral-dials' })
  })

  afterAll(async () => {
    await ns?.delete()
  })

  it('15 back-to-back, 4 concurrent and 4 overlapping dials all connect, leaving nothing open', async () => {
    const netns = ns!
    const plan: DialPlan = { backToBack: 15, concurrent: 4, overlapping: 4 }
    const args = (role: string): string[] => [role, JSON.stringify(plan)]
    const signal = AbortSignal.timeout(100_000)
    const listener = spawnNodeScript(netns, script, { args: args('listen'), signal })
    const dialer = spawnNodeScript(netns, script, { args: args('dial'), signal })
    const results = await linkChildren([{ id: 'listener', child: listener }, { id: 'dialer', child: dialer }], (id, line) => {
      if (id === 'listener' && 'ready' in line) dialer.stdin.write(JSON.stringify({ go: true }) + '\n')
      if (id === 'dialer' && 'result' in line) listener.stdin.end()
    })
    const d = results.dialer as DialerResult
    const l = results.listener as ListenerResult
    const total = plan.backToBack + plan.concurrent + plan.overlapping
    expect(d.outcomes.filter((o) => !o.ok)).toEqual([])
    expect(d.outcomes.map((o) => o.phase)).toEqual([
      ...Array<string>(plan.backToBack).fill('back-to-back'),
      ...Array<string>(plan.concurrent).fill('concurrent'),
      ...Array<string>(plan.overlapping).fill('overlapping')
    ])
    expect(l.channels).toBe(total)
    expect(l.echoed).toBe(total)
    expect(l.sessionErrors).toEqual([])
    // One peer connection per dial on each side, every one closed in the end.
    expect(d.created).toBe(total)
    expect(l.created).toBe(total)
    expect([d.openSessions, l.openSessions]).toEqual([0, 0])
    expect([d.unclosed, l.unclosed]).toEqual([0, 0])
    const setups = d.outcomes.map((o) => Math.round(o.setupMs)).sort((a, b) => a - b)
    console.info(`[webrtc-repeated-dials] setup ms: median ${setups[Math.floor(setups.length / 2)]}, max ${setups[setups.length - 1]}, over 500 ms: ${setups.filter((s) => s > 500).length}/${setups.length}`)
  })
})
