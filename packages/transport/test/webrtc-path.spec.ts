/**
 * The direct WebRTC path (dialer + listener over Signaling, DataChannel
 * MessageChannel) with node-datachannel, inside a network namespace this
 * file creates: libjuice gathers no candidate on loopback alone, and tests
 * must not use the machine's own interfaces. Each scenario runs in a child
 * process (test/support/webrtc-scenarios.ts) and reports JSON.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNetns, netnsSupport, runNodeScript } from './support/netns.js'
import type { Netns } from './support/netns.js'

const script = fileURLToPath(new URL('./support/webrtc-scenarios.ts', import.meta.url))
const support = await netnsSupport()
if (!support.ok) console.warn(`[webrtc-path.spec] skipped: ${support.reason}`)

async function scenario<T> (ns: Netns | undefined, name: string): Promise<T> {
  if (ns == null) throw new Error('no namespace')
  const { result } = await runNodeScript<T>(ns, script, { args: [name], signal: AbortSignal.timeout(55_000) })
  return result
}

describe.skipIf(!support.ok)('webrtc path (node-datachannel, in a network namespace)', () => {
  let ns: Netns | undefined

  beforeAll(async () => {
    ns = await createNetns()
  })

  afterAll(async () => {
    await ns?.delete()
  })

  it('connects and carries 64 MiB one way and 16 MiB the other at once, hashes equal, queue bounded', async () => {
    const r = await scenario<{
      setupMs: number
      maxMessageSize: number[]
      method: string
      protocol: string
      aToB: { sent: string, got: string, bytes: number, maxQueued: number }
      bToA: { sent: string, got: string, bytes: number, maxQueued: number }
      remoteEnded: boolean
      status: string[]
      openSessions: number[]
      unclosed: number
      created: number
    }>(ns, 'transfer')
    expect(r.method).toBe('webrtc-direct')
    expect(r.protocol).toBe('/chiral/test/1.0.0')
    expect(r.maxMessageSize).toEqual([262144, 262144])
    expect(r.aToB.bytes).toBe(64 * 1024 * 1024)
    expect(r.aToB.got).toBe(r.aToB.sent)
    expect(r.bToA.bytes).toBe(16 * 1024 * 1024)
    expect(r.bToA.got).toBe(r.bToA.sent)
    // Backpressure engaged (the queue reached the 1 MiB mark) and held.
    for (const q of [r.aToB.maxQueued, r.bToA.maxQueued]) {
      expect(q).toBeGreaterThan(0)
      expect(q).toBeLessThanOrEqual(1024 * 1024)
    }
    expect(r.remoteEnded).toBe(true)
    expect(r.status).toEqual(['closed', 'closed'])
    expect(r.openSessions).toEqual([0, 0])
    expect(r.created).toBe(2)
    expect(r.unclosed).toBe(0)
  })

  it('reuses one peer connection for later channels to the same peer, and closes it once idle', async () => {
    const r = await scenario<{
      setupMs: number[], echoes: boolean[], channels: number, created: number, peerConnections: number[],
      whileOpen: number[], afterClose: number[], afterIdle: number[], unclosed: number
    }>(ns, 'reuse')
    console.log(JSON.stringify(r))
    expect(r.echoes).toEqual([true, true, true])
    expect(r.channels).toBe(3)
    // One peer connection each side for three channels.
    expect(r.peerConnections).toEqual([1, 1])
    expect(r.created).toBe(2)
    // A channel on the open connection skips ICE and DTLS.
    expect(r.setupMs[1]).toBeLessThan(r.setupMs[0]!)
    expect(r.setupMs[2]).toBeLessThan(r.setupMs[0]!)
    expect(r.whileOpen).toEqual([1, 1])
    expect(r.afterClose).toEqual([1, 1])
    expect(r.afterIdle).toEqual([0, 0])
    expect(r.unclosed).toBe(0)
  })

  it('applies candidates that arrive before the answer; the dialer sends its own only after applying the answer', async () => {
    const r = await scenario<{ early: Record<string, number>, received: Record<string, number>, dialerWaitedForAnswer: boolean, added: number[], bytes: number, unclosed: number }>(ns, 'early-candidates')
    // Every listener candidate overtook the answer, and none was lost.
    expect(r.early['peer-a']).toBeGreaterThan(0)
    expect(r.early['peer-a']).toBe(r.received['peer-a'])
    // The dialer held its candidates until the answer was in (see WebRTCSession).
    expect(r.dialerWaitedForAnswer).toBe(true)
    expect(r.early['peer-b']).toBe(0)
    expect(r.received['peer-b']).toBeGreaterThan(0)
    expect(r.added).toEqual([r.received['peer-a'], r.received['peer-b']])
    expect(r.bytes).toBe(3)
    expect(r.unclosed).toBe(0)
  })

  it('the dialer sends its candidates only once it checks a listener candidate, or after its hold time', async () => {
    type Run = { bytes: number, dialerHeldAfterAnswerMs: number, dialerAfterListenerCandidateMs: number, unclosed: number }
    const r = await scenario<{ late: Run, dropped: Run }>(ns, 'candidate-order')
    // Listener candidates 150 ms late: the dialer's first goes out after the first of them is in.
    expect(r.late.dialerAfterListenerCandidateMs).toBeGreaterThanOrEqual(0)
    expect(r.late.dialerHeldAfterAnswerMs).toBeGreaterThanOrEqual(100)
    expect(r.late.bytes).toBe(3)
    // No listener candidate ever: released after the hold (250 ms), and the connection still comes up.
    expect(r.dropped.dialerHeldAfterAnswerMs).toBeGreaterThanOrEqual(200)
    expect(r.dropped.bytes).toBe(3)
    expect([r.late.unclosed, r.dropped.unclosed]).toEqual([0, 0])
  })

  it('fails with ice-failed within the configured time when no candidate gets through, leaking nothing', async () => {
    const r = await scenario<{ connectTimeout: number, elapsedMs: number, code: string, reason: string, listenerCode: string, openSessions: number[], created: number, unclosed: number }>(ns, 'ice-failure')
    expect(r.code).toBe('ice-failed')
    expect(r.listenerCode).toBe('ice-failed')
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.connectTimeout - 50)
    expect(r.elapsedMs).toBeLessThan(r.connectTimeout + 1000)
    expect(r.openSessions).toEqual([0, 0])
    expect(r.created).toBe(2)
    expect(r.unclosed).toBe(0)
  })

  it('aborts a dial, an open channel, and the listener cleanly', async () => {
    const r = await scenario<{ abortCode: string, abortMs: number, afterAbort: { dialer: number }, preAbortedCode: string, readError: string, sendAfterAbort: string, bEnded: string, openSessions: number[], unclosed: number }>(ns, 'abort')
    expect(r.abortCode).toBe('aborted')
    expect(r.abortMs).toBeLessThan(1000)
    expect(r.afterAbort.dialer).toBe(0)
    expect(r.preAbortedCode).toBe('aborted')
    expect(r.readError).toBe('stop now')
    expect(r.sendAfterAbort).toBe('stop now')
    // The remote of an aborted channel sees a failure, not a clean end.
    expect(r.bEnded).toMatch(/^error: /)
    expect(r.openSessions).toEqual([0, 0])
    expect(r.unclosed).toBe(0)
  })

  it('closes gracefully (everything queued arrives, half-close), refuses oversized messages and unserved protocols', async () => {
    const r = await scenario<{ oversized: string, sent: string, got: string, bytes: number, unservedEnd: string, halfClosed: string[], closed: string[], openSessions: number[], unclosed: number }>(ns, 'close-semantics')
    expect(r.oversized).toBe('invalid-argument')
    expect(r.bytes).toBe(8 * 1024 * 1024)
    expect(r.got).toBe(r.sent)
    expect(r.halfClosed).toEqual(['open', 'open'])
    expect(r.closed).toEqual(['closed', 'closed'])
    expect(r.unservedEnd).not.toBe('timeout')
    expect(r.unservedEnd).not.toMatch(/^ended after [1-9]/)
    expect(r.openSessions).toEqual([0, 0])
    expect(r.unclosed).toBe(0)
  })
})
