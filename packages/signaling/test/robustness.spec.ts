import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nextSignal, untilOpen, wsClient } from './client-helpers.js'
import { RawClient, startServer } from './raw-client.js'

const MAX_MESSAGE = 4096
const RUNS = 10_500

/** One frame a hostile or broken client might send: text (string) or binary. */
type BadFrame = { text: string } | { binary: Uint8Array } | { rawText: Uint8Array }

const kinds = ['register', 'offer', 'answer', 'candidate', 'ping', 'pong', 'error', 'peers', 'challenge', '']
const badFrame: fc.Arbitrary<BadFrame> = fc.oneof(
  // Arbitrary text, mostly not JSON.
  fc.string({ maxLength: 200 }).map((text) => ({ text })),
  // Any JSON value.
  fc.json({ maxDepth: 4 }).map((text) => ({ text })),
  // Known and unknown kinds with fields of any type.
  fc.record({
    type: fc.oneof(fc.constantFrom(...kinds), fc.anything()),
    to: fc.anything(),
    clientId: fc.anything(),
    sdp: fc.anything(),
    candidate: fc.anything(),
    ts: fc.anything(),
    session: fc.anything()
  }, { requiredKeys: ['type'] }).map((o) => ({ text: JSON.stringify(o) ?? 'undefined' })),
  // Well-formed kinds with one field of the wrong type.
  fc.tuple(fc.constantFrom('offer', 'answer', 'candidate', 'register', 'ping'), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.string({ minLength: 129, maxLength: 300 })))
    .map(([type, v]) => ({ text: JSON.stringify({ type, to: v, clientId: v, sdp: v, candidate: { candidate: v }, ts: v === null ? 'x' : String(v) }) })),
  // Oversized: just above the limit up to past ws' hard cap (close 1009).
  fc.integer({ min: MAX_MESSAGE + 1, max: 300 * 1024 }).map((n) => ({ text: JSON.stringify({ type: 'offer', to: 'good-b', sdp: 'x'.repeat(n) }) })),
  // Deep nesting.
  fc.integer({ min: 1, max: 3000 }).map((n) => ({ text: '['.repeat(n) + ']'.repeat(n) })),
  // Binary frames, and text frames that are not UTF-8 (ws closes those with 1007).
  fc.uint8Array({ maxLength: 200 }).map((binary) => ({ binary })),
  fc.uint8Array({ minLength: 1, maxLength: 50 }).map((rawText) => ({ rawText }))
)

describe('robustness: generated malformed, mistyped and oversized frames', () => {
  it(`${RUNS} bad frames each get an error (or a close with a code) while good clients keep routing`, async () => {
    const { server, url } = await startServer({ maxMessageBytes: MAX_MESSAGE, rateLimit: { burst: 1_000_000, perSecond: 1_000_000 } })
    const a = wsClient(url, { id: 'good-a', room: 'good' })
    const b = wsClient(url, { id: 'good-b', room: 'good' })
    let fuzz = await RawClient.ready(url).then((r) => r.client)
    let running = true
    const rounds: number[] = []
    const outcomes = { error: 0, close: 0, other: 0 }
    try {
      await a.start()
      await b.start()
      await untilOpen(a)
      await untilOpen(b)
      // Well-behaved traffic, concurrently with the fuzzing.
      const good = (async () => {
        for (let i = 0; running; i++) {
          const offer = nextSignal(b, (s) => s.from === 'good-a', 5000)
          await a.send('good-b', { type: 'offer', sdp: `o${i}`, session: `g${i}` })
          expect((await offer).message).toEqual({ type: 'offer', sdp: `o${i}`, session: `g${i}` })
          const answer = nextSignal(a, (s) => s.from === 'good-b', 5000)
          await b.send('good-a', { type: 'answer', sdp: `a${i}`, session: `g${i}` })
          expect((await answer).message).toEqual({ type: 'answer', sdp: `a${i}`, session: `g${i}` })
          rounds.push(Date.now())
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
      })()

      await fc.assert(fc.asyncProperty(badFrame, async (frame) => {
        if (fuzz.closed !== undefined) fuzz = await RawClient.ready(url).then((r) => r.client)
        fuzz.inbox.length = 0
        if ('text' in frame) fuzz.ws.send(frame.text)
        else if ('binary' in frame) fuzz.ws.send(frame.binary, { binary: true })
        else fuzz.ws.send(frame.rawText, { binary: false })
        let reply
        try {
          reply = await fuzz.next(undefined, 5000)
        } catch (err) {
          if (fuzz.closed === undefined) throw err
        }
        if (reply === undefined) {
          // Closed: with a protocol code and, where ws gives one, a reason.
          expect([1007, 1009]).toContain(fuzz.closed!.code)
          outcomes.close++
        } else if (reply.type === 'error') {
          expect(['bad-message', 'too-large', 'not-registered', 'unknown-peer', 'auth-failed', 'id-taken']).toContain(reply.code)
          expect(typeof reply.message).toBe('string')
          outcomes.error++
        } else {
          // A generated frame that happens to be valid (a ping, a register) is answered normally.
          expect(['pong', 'peers']).toContain(reply.type)
          outcomes.other++
        }
      }), { numRuns: RUNS, endOnFailure: true })

      running = false
      await good
      expect(outcomes.error + outcomes.close + outcomes.other).toBe(RUNS)
      // Nearly every generated frame is bad; the rare valid one got its normal answer.
      expect(outcomes.other).toBeLessThan(RUNS * 0.02)
      expect(outcomes.error).toBeGreaterThan(RUNS * 0.8)
      expect(outcomes.close).toBeGreaterThan(0)
      // Good clients routed throughout: many rounds, no long stall.
      expect(rounds.length).toBeGreaterThan(20)
      const gaps = rounds.slice(1).map((t, i) => t - rounds[i]!)
      expect(Math.max(...gaps)).toBeLessThan(3000)
      expect(server.stats().registered).toBeGreaterThanOrEqual(2)
      expect(server.stats().errors['bad-message']).toBeGreaterThan(RUNS / 2)
    } finally {
      running = false
      fuzz.close()
      await a.stop()
      await b.stop()
      await server.stop()
    }
    // eslint-disable-next-line no-console
    console.log('robustness outcomes', outcomes, 'good rounds', rounds.length)
  })
})
