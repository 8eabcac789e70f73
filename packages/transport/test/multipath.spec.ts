import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { blobSink, PathRace, Transfer, TRANSFER_PROTOCOL } from '../src/index.js'
import { blobProvider } from './support/blob-provider.js'
import { sha256Bytes } from './support/files.js'
import { shapedChannelPair } from './support/shaped-channel.js'
import type { PathRaceInit, PeerPaths, Provider } from '../src/index.js'
import type { LinkShape } from './support/shaped-channel.js'
import type { Manifest, PathDialer, TransferMethod } from '@chiral/core'

const KiB = 1024
const MiB = 1024 * KiB
const MB = 1_000_000

/**
 * The selector and the end game over emulated links of known speed: which
 * path carries how much must follow what each path measures, not its kind.
 */
describe('multipath scheduling over links of different speed', () => {
  let provider: Provider<string>
  let data: Uint8Array<ArrayBuffer>
  let manifest: Manifest

  beforeEach(async () => {
    ({ provider, data, manifest } = await blobProvider(12 * MiB, 256 * KiB))
  })

  afterEach(async () => {
    await provider.stop()
  })

  function dialer (name: string, method: TransferMethod, shape: LinkShape, delayDialMs = 0): PathDialer {
    return {
      name,
      method,
      async dial () {
        await new Promise((resolve) => setTimeout(resolve, delayDialMs))
        const { near, far } = shapedChannelPair(shape, { method })
        void provider.serve(far).catch(() => {})
        return near
      }
    }
  }

  async function fetch (dialers: PathDialer[], init: PathRaceInit = {}, onPeer?: (peer: PeerPaths) => void) {
    const transfer = new Transfer(manifest.cid, blobSink(), { window: 8 })
    const race = new PathRace({ dialers }, { stallTimeout: 5000, ...init })
    const peer = await race.run(transfer, { peerId: 'provider', multiaddrs: [] }, TRANSFER_PROTOCOL, onPeer == null ? {} : { onPeer })
    transfer.seal()
    const result = await transfer.result
    expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
    const report = (path: string) => peer.report().find((r) => r.path === path)!
    return { result, report }
  }

  it('two paths add up: each carries in proportion to its measured goodput', async () => {
    const { result, report } = await fetch([
      dialer('relay', 'relay', { rate: 12 * MB, delayMs: 10 }),
      dialer('webrtc', 'webrtc-direct', { rate: 6 * MB, delayMs: 20 })
    ])
    const relay = report('relay')
    const direct = report('webrtc')
    expect((relay.bytes ?? 0) + (direct.bytes ?? 0)).toBeGreaterThanOrEqual(data.byteLength)
    // 12 : 6 → the direct path's share is about a third.
    expect(direct.share).toBeGreaterThan(0.2)
    expect(direct.share).toBeLessThan(0.45)
    expect(result.method).toBe('relay')
    expect(relay.goodput).toBeGreaterThan(direct.goodput!)
    expect(direct.rttMs).toBeGreaterThanOrEqual(40)
  })

  it('a direct path far slower than the relay is demoted and its last chunks are fetched again on the fast path', async () => {
    const { result, report } = await fetch([
      dialer('relay', 'relay', { rate: 16 * MB, delayMs: 5 }),
      dialer('webrtc', 'webrtc-direct', { rate: 0.4 * MB, delayMs: 20 })
    ], { probeInterval: 60_000 })
    const direct = report('webrtc')
    // 0.4 of 16 MB/s is 2.5 %: it carried a probe's worth, no more.
    expect(direct.bytes ?? 0).toBeLessThan(2 * MiB)
    expect(direct.role).toBe('demoted')
    expect(result.method).toBe('relay')
    // A chunk the slow path still held at the end came over the relay as well.
    const relayRecord = result.paths.find((p) => p.label.startsWith('relay'))!
    const directRecord = result.paths.find((p) => p.label.startsWith('webrtc'))!
    expect(relayRecord.chunks + directRecord.chunks).toBe(manifest.chunks.length)
    // It was given a probe window of 4 chunks but delivered fewer: the relay's copies finished the rest.
    expect(directRecord.chunks).toBeLessThan(4)
  })

  it('a demoted path that recovers wins its share back', async () => {
    const directShape: LinkShape = { rate: 0.3 * MB, delayMs: 10 }
    let atRecovery: { direct: number, all: number } | undefined
    const bytes = (peer: PeerPaths) => {
      const reports = peer.report()
      return { direct: reports.find((r) => r.path === 'webrtc')?.bytes ?? 0, all: reports.reduce((n, r) => n + (r.bytes ?? 0), 0) }
    }
    const { report } = await fetch([
      dialer('relay', 'relay', { rate: 6 * MB, delayMs: 10 }),
      dialer('webrtc', 'webrtc-direct', directShape)
    ], { probeInterval: 400, probeWindow: 2 }, (peer) => {
      setTimeout(() => { atRecovery = bytes(peer); directShape.rate = 30 * MB }, 600)
    })
    const direct = report('webrtc')
    expect(direct.role).toBe('carrying')
    expect(atRecovery).toBeDefined()
    // Slow until then (demoted: under 10 % of the bytes so far) …
    expect(atRecovery!.direct / atRecovery!.all).toBeLessThan(0.1)
    // … then 5× the relay's rate: most of what came after went direct.
    const all = (report('relay').bytes ?? 0) + (direct.bytes ?? 0)
    expect(((direct.bytes ?? 0) - atRecovery!.direct) / (all - atRecovery!.all)).toBeGreaterThan(0.5)
  })

  it('an app that caps its relay use keeps the relay to its share while a direct path is up', async () => {
    const { report } = await fetch([
      dialer('relay', 'relay', { rate: 16 * MB, delayMs: 5 }),
      dialer('webrtc', 'webrtc-direct', { rate: 12 * MB, delayMs: 10 }, 100)
    ], { relayUse: { maxShare: 0.2 } })
    // The relay carried everything for the first 100 ms (≈ 1.6 MB) and then at most its share, give or take a window.
    expect(report('relay').share).toBeLessThan(0.35)
    expect(report('webrtc').share).toBeGreaterThan(0.65)
  })
})
