import { describe, expect, it } from 'vitest'
import { PathSelector } from '../src/race/path-selector.js'
import { transition } from '../src/race/path-state.js'
import type { PathInfo } from '../src/race/path-state.js'
import type { AttachedChannel } from '../src/receiver/transfer.js'

const MB = 1_000_000
const MiB = 1024 * 1024
const NOW = 100_000
const ctx = (now = NOW) => ({ chunkBytes: MiB, defaultWindow: 8, now })

interface Fake extends AttachedChannel { goodput: number | undefined, chunks: number, bytes: number }

function channel (id: number, goodput?: number, rttMs = 20, bytes = 0): Fake {
  return {
    id, label: `c${id}`, method: 'x', state: 'ready', attachedAt: NOW - 1000, bytes, maxMessageSize: MiB, received: bytes, chunks: Math.round(bytes / MiB), badChunks: 0,
    duplicateChunks: 0, inFlight: 0, window: 8, paused: true, goodput, rttMs
  }
}
const up = (name: string, method: string, ch: AttachedChannel): PathInfo => ({ name, method, state: { status: 'up', startedAt: 0, setupMs: 10, channel: ch } })
const dialing = (name: string, method: string): PathInfo => ({ name, method, state: { status: 'dialing', startedAt: 0 } })
const failed = (name: string, method: string): PathInfo => ({ name, method, state: { status: 'failed', startedAt: 0, setupMs: 5, error: new Error('no') } })
const plan = (s: ReturnType<PathSelector['select']>, path: string) => s.plans.find((p) => p.path === path)!

describe('PathSelector', () => {
  it('starts on the first path up with the default window, without waiting for a direct path still dialling', () => {
    const selector = new PathSelector()
    const s = selector.select([up('relay', 'relay', channel(1)), dialing('webrtc', 'webrtc-direct')], undefined, ctx())
    expect(s.active?.name).toBe('relay')
    expect(s.plans).toEqual([{ path: 'relay', channel: expect.anything(), paused: false, window: 8, role: 'unmeasured' }])
  })

  it('lets every path carry: a new path gets a probe window beside a measured one', () => {
    const selector = new PathSelector()
    const s = selector.select([up('relay', 'relay', channel(1, 40 * MB)), up('webrtc', 'webrtc-direct', channel(2))], 'relay', ctx())
    expect(plan(s, 'relay')).toMatchObject({ paused: false, role: 'carrying' })
    expect(plan(s, 'webrtc')).toMatchObject({ paused: false, window: 4, role: 'unmeasured' })
  })

  it('sizes windows from goodput × (2 × RTT + slack), plus one; the best path never below the default', () => {
    const selector = new PathSelector({ queueTarget: 50, demoteBelow: 0.15 })
    // relay 70 MB/s, 100 ms RTT → 70e6 × 0.25 s / 1 MiB = 16.7 → 17 + 1
    // direct 12 MB/s, 40 ms RTT → 12e6 × 0.13 s / 1 MiB = 1.5 → 2 + 1
    const s = selector.select([up('relay', 'relay', channel(1, 70 * MB, 100)), up('webrtc', 'webrtc-direct', channel(2, 12 * MB, 40))], 'relay', ctx())
    expect(plan(s, 'relay').window).toBe(18)
    expect(plan(s, 'webrtc').window).toBe(3)
    const slowBest = new PathSelector().select([up('relay', 'relay', channel(1, 2 * MB, 10))], 'relay', ctx())
    expect(plan(slowBest, 'relay').window).toBe(8)
  })

  it('demotes a slow but alive path, probes it later, and gives it its share back once it recovered', () => {
    const selector = new PathSelector({ demoteBelow: 0.15, promoteAbove: 0.25, probeInterval: 1000, probeWindow: 2 })
    const relay = channel(1, 60 * MB)
    const direct = channel(2, 3 * MB, 40, 4 * MiB) // 5 % of the relay
    const paths = [up('relay', 'relay', relay), up('webrtc', 'webrtc-direct', direct)]
    expect(plan(selector.select(paths, 'relay', ctx(NOW)), 'webrtc')).toMatchObject({ paused: true, role: 'demoted' })
    expect(plan(selector.select(paths, 'relay', ctx(NOW + 500)), 'webrtc').role).toBe('demoted')
    // Probe due: a couple of chunks to measure again.
    expect(plan(selector.select(paths, 'relay', ctx(NOW + 1001)), 'webrtc')).toMatchObject({ paused: false, window: 2, role: 'probing' })
    // The probe's chunks arrived, still slow: demoted again, the next probe twice as late.
    direct.chunks += 2
    expect(plan(selector.select(paths, 'relay', ctx(NOW + 1500)), 'webrtc').role).toBe('demoted')
    expect(plan(selector.select(paths, 'relay', ctx(NOW + 3000)), 'webrtc').role).toBe('demoted')
    expect(plan(selector.select(paths, 'relay', ctx(NOW + 3501)), 'webrtc').role).toBe('probing')
    // Recovered: 30 MB/s is half the relay.
    direct.chunks += 2
    direct.goodput = 30 * MB
    expect(plan(selector.select(paths, 'relay', ctx(NOW + 3600)), 'webrtc')).toMatchObject({ paused: false, role: 'carrying' })
  })

  it('reports the path carrying most as active, switching only past the threshold', () => {
    const selector = new PathSelector({ switchThreshold: 0.3 })
    const relay = channel(1, 50 * MB)
    const direct = channel(2, 60 * MB) // 20 % better: no switch
    expect(selector.select([up('relay', 'relay', relay), up('webrtc', 'webrtc-direct', direct)], 'relay', ctx()).active?.name).toBe('relay')
    direct.goodput = 70 * MB // 40 % better
    expect(selector.select([up('relay', 'relay', relay), up('webrtc', 'webrtc-direct', direct)], 'relay', ctx()).active?.name).toBe('webrtc')
  })

  it('prefers nothing by kind: a faster relay leads a slower direct path', () => {
    const s = new PathSelector().select([up('relay', 'relay', channel(1, 70 * MB)), up('webrtc', 'webrtc-direct', channel(2, 40 * MB))], undefined, ctx())
    expect(s.active?.name).toBe('relay')
    expect(s.plans.every((p) => !p.paused)).toBe(true)
  })

  it('holds the relay back by the app\'s relay use, and lets it carry again when no direct path is left', () => {
    const stop = new PathSelector({ relayUse: { whenDirectUp: 'stop' } })
    const relay = channel(1, 70 * MB, 20, 10 * MiB)
    const direct = channel(2, 50 * MB, 20, 10 * MiB)
    expect(plan(stop.select([up('relay', 'relay', relay), up('webrtc', 'webrtc-direct', direct)], 'relay', ctx()), 'relay')).toMatchObject({ paused: true, role: 'held-by-policy' })
    expect(plan(stop.select([up('relay', 'relay', relay), failed('webrtc', 'webrtc-direct')], 'relay', ctx()), 'relay').paused).toBe(false)

    const share = new PathSelector({ relayUse: { maxShare: 0.25 } })
    // relay carried half so far: over its share
    expect(plan(share.select([up('relay', 'relay', relay), up('webrtc', 'webrtc-direct', direct)], 'relay', ctx()), 'relay').paused).toBe(true)
    relay.bytes = 2 * MiB // 2 of 12 MiB: under
    expect(plan(share.select([up('relay', 'relay', relay), up('webrtc', 'webrtc-direct', direct)], 'relay', ctx()), 'relay').paused).toBe(false)
  })

  it('has nothing to choose when nothing is up', () => {
    expect(new PathSelector().select([dialing('relay', 'relay'), dialing('webrtc', 'webrtc-direct')], undefined, ctx())).toEqual({ plans: [] })
  })
})

describe('path state transitions', () => {
  it('allows dialing → up → down, dialing → failed, and a re-dial from down or failed only', () => {
    const d = { status: 'dialing', startedAt: 1 } as const
    const ch = channel(1)
    const u = transition(d, { status: 'up', startedAt: 1, setupMs: 2, channel: ch })
    expect(transition(u, { status: 'down', startedAt: 1, setupMs: 2, channel: ch }).status).toBe('down')
    expect(transition(d, { status: 'failed', startedAt: 1, setupMs: 2, error: new Error('x') }).status).toBe('failed')
    expect(() => transition(u, { status: 'failed', startedAt: 1, setupMs: 2, error: new Error('x') })).toThrow(/illegal/)
    expect(transition({ status: 'down', startedAt: 1, setupMs: 2, channel: ch }, d).status).toBe('dialing')
    expect(transition({ status: 'failed', startedAt: 1, setupMs: 2, error: new Error('x') }, d).status).toBe('dialing')
    expect(() => transition(u, d)).toThrow(/illegal/)
    expect(() => transition(d, { status: 'down', startedAt: 1, setupMs: 2, channel: ch })).toThrow(/illegal/)
  })
})
