/**
 * All three paths raced at once (relay, Chiral's WebRTC, libp2p's WebRTC)
 * between two peers reachable only through a relay, inside a network
 * namespace this file creates (one process: three-path-race.ts).
 *
 * libp2p's dial queue joins a dial to any dial in progress to the same peer
 * (even with `force`), so the libp2p-webrtc dial used to be handed the
 * relay path's connection and closed it as "not WebRTC", killing the relay
 * path. The relay path must survive, libp2p's WebRTC path must still get a
 * real WebRTC connection, and the fetch must complete with the right hash.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNetns, netnsSupport, runNodeScript } from '../../packages/transport/test/support/netns.js'
import type { Netns } from '../../packages/transport/test/support/netns.js'
import type { ThreePathRaceResult } from './three-path-race.js'

const script = fileURLToPath(new URL('./three-path-race.ts', import.meta.url))
const support = await netnsSupport()
if (!support.ok) console.warn(`[three-path-race.spec] skipped: ${support.reason}`)

// Long enough for libp2p's WebRTC dial to come up before the fetch ends (its setup is sometimes ≈ 1 s).
const SIZE_MIB = 48

describe.skipIf(!support.ok)('race of relay, webrtc and libp2p-webrtc (one process in a network namespace)', () => {
  let ns: Netns | undefined

  beforeAll(async () => {
    ns = await createNetns({ prefix: 'chiral-race3' })
  })

  afterAll(async () => {
    await ns?.delete()
  })

  it('keeps the relay path alive next to libp2p\'s WebRTC path and fetches with the right hash', async () => {
    const { result: r } = await runNodeScript<ThreePathRaceResult>(ns!, script, { args: [String(SIZE_MIB)], signal: AbortSignal.timeout(90_000) })
    console.info(`[libp2p-webrtc-race] method ${r.method}, bytes ${JSON.stringify(r.bytesByMethod)}, ttfb ${String(r.timeToFirstByteMs)} ms, ` +
      `paths ${r.pathReports.map((p) => `${p.path}=${String(p.setupMs)}ms/${p.status}${p.error == null ? '' : ` (${p.error})`}`).join(' ')}`)
    expect(r.hashOk).toBe(true)
    expect(r.bytes).toBe(SIZE_MIB * 1024 * 1024)
    const report = (path: string): ThreePathRaceResult['pathReports'][number] | undefined => r.pathReports.find((p) => p.path === path)
    // The relay and Chiral's WebRTC path came up and were not cut.
    for (const path of ['relay', 'webrtc']) {
      expect(report(path)?.status, path).toMatch(/^(up|down)$/)
      expect(report(path)?.error, path).toBeUndefined()
    }
    // libp2p's WebRTC path (setup sometimes ≈ 1 s) either came up or was still
    // being dialled when the file was done (then the race aborts it); it never
    // fails on its own, and never takes the relay path down with it.
    const libp2pWebRTC = report('libp2p-webrtc')
    if (libp2pWebRTC?.status === 'failed') expect(libp2pWebRTC.error ?? '').toMatch(/abort|already finished/i)
    else expect(libp2pWebRTC?.error).toBeUndefined()
    // The relayed connection is still open after the fetch (next to libp2p's WebRTC one when it came up).
    expect(r.connections).toContainEqual({ method: 'relay', status: 'open' })
    if (libp2pWebRTC?.status === 'up' || libp2pWebRTC?.status === 'down') {
      expect(r.connections).toContainEqual({ method: 'webrtc-direct', status: 'open' })
    }
  })
})
