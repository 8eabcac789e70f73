import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChunkScheduler } from '../src/index.js'

describe('ChunkScheduler', () => {
  it('hands out the lowest missing chunk first, returned chunks before new ones', () => {
    const s = new ChunkScheduler(6)
    s.markVerified(1)
    expect([s.take(), s.take(), s.take()]).toEqual([0, 2, 3])
    s.release(2)
    expect(s.reject(0)).toBe(1)
    expect(s.state(0)).toBe('missing')
    expect([s.take(), s.take(), s.take(), s.take()]).toEqual([0, 2, 4, 5])
    expect(s.take()).toBeUndefined()
    expect(s.inFlightCount).toBe(5)
    for (const i of [0, 2, 3, 4, 5]) expect(s.complete(i)).toBe(true)
    expect(s.complete(3)).toBe(false)
    expect(s.done).toBe(true)
    expect(s.reject(0)).toBe(2)
    expect(s.state(0)).toBe('verified')
  })

  it('never loses or duplicates a chunk, whatever the order of takes, releases and completions', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 40 }),
      fc.array(fc.tuple(fc.constantFrom('take', 'complete', 'release', 'reject'), fc.nat()), { maxLength: 300 }),
      (count, ops) => {
        const s = new ChunkScheduler(count)
        const inFlight: number[] = []
        const verified = new Set<number>()
        for (const [op, n] of ops) {
          if (op === 'take') {
            const i = s.take()
            if (i === undefined) {
              expect(s.missingCount).toBe(0)
            } else {
              expect(inFlight).not.toContain(i)
              expect(verified.has(i)).toBe(false)
              inFlight.push(i)
            }
          } else if (inFlight.length > 0) {
            const [i] = inFlight.splice(n % inFlight.length, 1) as [number]
            if (op === 'complete') { expect(s.complete(i)).toBe(true); verified.add(i) }
            if (op === 'release') s.release(i)
            if (op === 'reject') s.reject(i)
          }
          expect(s.verifiedCount).toBe(verified.size)
          expect(s.inFlightCount).toBe(inFlight.length)
        }
        // Whatever happened, everything not verified can still be taken exactly once.
        for (const i of inFlight) s.release(i)
        const rest: number[] = []
        for (let i = s.take(); i !== undefined; i = s.take()) rest.push(i)
        expect(new Set([...rest, ...verified]).size).toBe(count)
        expect(rest.length + verified.size).toBe(count)
      }
    ))
  })
})
