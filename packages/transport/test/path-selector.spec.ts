import { describe, expect, it } from 'vitest'
import { PathSelector } from '../src/race/path-selector.js'
import { transition } from '../src/race/path-state.js'
import type { PathInfo } from '../src/race/path-state.js'
import type { AttachedChannel } from '../src/receiver/transfer.js'

const NOW = 100_000

function channel (id: number, bytes = 0, attachedAgoMs = 1000): AttachedChannel {
  return { id, label: `c${id}`, method: 'x', state: 'ready', attachedAt: NOW - attachedAgoMs, bytes, chunks: 0, badChunks: 0, inFlight: 0, window: 8, paused: true }
}
const up = (name: string, method: string, ch: AttachedChannel): PathInfo => ({ name, method, state: { status: 'up', startedAt: 0, setupMs: 10, channel: ch } })
const dialing = (name: string, method: string): PathInfo => ({ name, method, state: { status: 'dialing', startedAt: 0 } })
const failed = (name: string, method: string): PathInfo => ({ name, method, state: { status: 'failed', startedAt: 0, setupMs: 5, error: new Error('no') } })

describe('PathSelector', () => {
  const selector = new PathSelector({ switchThreshold: 0.3, backupWindowWhileDialing: 2 })

  it('uses the relay at once, with a small window while a direct path is still dialling', () => {
    const relay = channel(1)
    const s = selector.select([up('relay', 'relay', relay), dialing('webrtc', 'webrtc-direct')], undefined, NOW)
    expect(s.active?.name).toBe('relay')
    expect(s.plans).toEqual([{ channel: relay, paused: false, window: 2 }])
  })

  it('gives the relay its full window once no direct path is pending', () => {
    const relay = channel(1)
    const s = selector.select([up('relay', 'relay', relay), failed('webrtc', 'webrtc-direct')], 'relay', NOW)
    expect(s.plans).toEqual([{ channel: relay, paused: false }])
  })

  it('moves to a direct path as soon as it is up, pausing the relay', () => {
    const relay = channel(1, 50_000_000)
    const direct = channel(2, 0, 1)
    const s = selector.select([up('relay', 'relay', relay), up('webrtc', 'webrtc-direct', direct)], 'relay', NOW)
    expect(s.active?.name).toBe('webrtc')
    expect(s.plans.find((p) => p.channel === relay)?.paused).toBe(true)
    expect(s.plans.find((p) => p.channel === direct)?.paused).toBe(false)
  })

  it('keeps the current direct path unless another is better by the threshold', () => {
    const a = channel(1, 100_000_000) // 100 MB/s
    const b = channel(2, 120_000_000) // 120 MB/s: only 20% better
    const paths = [up('webrtc', 'webrtc-direct', a), up('libp2p-webrtc', 'webrtc-direct', b)]
    expect(selector.select(paths, 'webrtc', NOW).active?.name).toBe('webrtc')
    const c = channel(3, 140_000_000) // 40% better
    expect(selector.select([up('webrtc', 'webrtc-direct', a), up('libp2p-webrtc', 'webrtc-direct', c)], 'webrtc', NOW).active?.name).toBe('libp2p-webrtc')
  })

  it('falls back to the relay when no direct path is up', () => {
    const relay = channel(1)
    const s = selector.select([up('relay', 'relay', relay), failed('webrtc', 'webrtc-direct')], 'webrtc', NOW)
    expect(s.active?.name).toBe('relay')
    expect(s.plans[0]?.paused).toBe(false)
  })

  it('has nothing to choose when nothing is up', () => {
    expect(selector.select([dialing('relay', 'relay'), dialing('webrtc', 'webrtc-direct')], undefined, NOW)).toEqual({ plans: [] })
  })
})

describe('path state transitions', () => {
  it('allows dialing → up → down and dialing → failed only', () => {
    const d = { status: 'dialing', startedAt: 1 } as const
    const u = transition(d, { status: 'up', startedAt: 1, setupMs: 2, channel: channel(1) })
    expect(transition(u, { status: 'down', startedAt: 1, setupMs: 2 }).status).toBe('down')
    expect(transition(d, { status: 'failed', startedAt: 1, setupMs: 2, error: new Error('x') }).status).toBe('failed')
    expect(() => transition(u, { status: 'failed', startedAt: 1, setupMs: 2, error: new Error('x') })).toThrow(/illegal/)
    expect(() => transition({ status: 'down', startedAt: 1, setupMs: 2 }, d)).toThrow(/illegal/)
  })
})
