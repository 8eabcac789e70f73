import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createReceiver, PathDialError } from '../src/index.js'
import { blobProvider } from './support/blob-provider.js'
import { sha256Bytes } from './support/files.js'
import { shapedChannelPair } from './support/shaped-channel.js'
import type { FetchOptions, Provider, Receiver, ReceiverInit, TransferProgress } from '../src/index.js'
import type { LinkShape } from './support/shaped-channel.js'
import type { Manifest, MessageChannel, PathDialer, TransferMethod } from '@chiral/core'

const KiB = 1024
const MiB = 1024 * KiB
const MB = 1_000_000

/** A path whose links can be cut (closed, or made silent) and whose dials can be refused. */
interface Path {
  dialer: PathDialer
  dials: number
  reachable: boolean
  links: Array<{ near: MessageChannel, far: MessageChannel, shape: LinkShape }>
  /** Every link closes with an error and new dials fail until `restore()`. */
  cut(): void
  /** Every link stops delivering (nothing closes) and new dials fail until `restore()`. */
  silence(): void
  restore(): void
}

/**
 * Recovery inside one fetch, over in-process links: every path to the
 * provider dies mid-transfer, the same fetch() re-dials within its retry
 * budget and resumes from the verified chunks, or fails naming the paths.
 */
describe('a fetch that loses every path', () => {
  let provider: Provider<string>
  let data: Uint8Array<ArrayBuffer>
  let manifest: Manifest
  let receiver: Receiver | undefined
  let paths: Path[] = []

  beforeEach(async () => {
    ({ provider, data, manifest } = await blobProvider(16 * MiB, 256 * KiB))
  })

  afterEach(async () => {
    await receiver?.stop()
    receiver = undefined
    for (const p of paths) for (const l of p.links) l.far.abort(new Error('test over'))
    paths = []
    await provider.stop()
  })

  function path (name: string, method: TransferMethod, rate = 40 * MB): Path {
    const p: Path = {
      dials: 0,
      reachable: true,
      links: [],
      dialer: {
        name,
        method,
        async dial () {
          p.dials++
          if (!p.reachable) throw new PathDialError(`${name}: no route to the provider`)
          const link = shapedChannelPair({ rate, delayMs: 5 }, { method })
          p.links.push(link)
          void provider.serve(link.far).catch(() => {})
          return link.near
        }
      },
      cut () {
        p.reachable = false
        for (const l of p.links) l.far.abort(new Error(`${name} link cut`))
      },
      silence () {
        p.reachable = false
        for (const l of p.links) l.shape.blackhole = true
      },
      restore () { p.reachable = true }
    }
    paths.push(p)
    return p
  }

  async function start (paths: Path[], init: ReceiverInit = {}): Promise<Receiver> {
    receiver = createReceiver({ dialers: paths.map((p) => p.dialer) }, { window: 8, retryDelay: 200, ...init })
    await receiver.start()
    return receiver
  }

  function fetchWithFault (r: Receiver, atBytes: number, fault: () => void, options: FetchOptions = {}) {
    const states: Array<TransferProgress['state']> = []
    let faulted = false
    const run = r.fetch(manifest.cid, {
      providers: [{ peerId: 'provider', multiaddrs: [] }],
      signal: AbortSignal.timeout(30_000),
      ...options,
      onProgress: (progress) => {
        states.push(progress.state)
        if (!faulted && progress.bytes >= atBytes) {
          faulted = true
          fault()
        }
      }
    })
    return { run, states }
  }

  it('re-dials when the only path closes, resumes from the verified chunks, and reports the recovery', async () => {
    const relay = path('relay', 'relay')
    const r = await start([relay])
    const { run, states } = fetchWithFault(r, 6 * MiB, () => {
      relay.cut()
      setTimeout(() => { relay.restore() }, 1500)
    })
    const result = await run
    expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
    expect(result.recoveries).toHaveLength(1)
    const [recovery] = result.recoveries
    expect(recovery!.paths).toEqual(['relay'])
    expect(recovery!.backAt - recovery!.lostAt).toBeGreaterThanOrEqual(1000)
    expect(recovery!.attempts).toBeGreaterThan(1)
    expect(states).toContain('reconnecting')
    expect(states.at(-1)).toBe('fetching')
    // What was in flight when the link died is fetched again, nothing more.
    expect(result.transferredBytes - data.byteLength).toBeLessThanOrEqual(8 * 256 * KiB)
    expect(relay.dials).toBeGreaterThan(2)
  })

  it('finds a silent path dead from its own data within the dead timeout and recovers on another path', async () => {
    const relay = path('relay', 'relay', 20 * MB)
    const direct = path('webrtc', 'webrtc-direct', 20 * MB)
    const r = await start([relay, direct], { deadTimeout: 1500, stallTimeout: 1000 })
    let silencedAt = 0
    const { run } = fetchWithFault(r, 5 * MiB, () => {
      silencedAt = Date.now()
      relay.silence()
      direct.silence()
      // Only the direct path comes back.
      setTimeout(() => { direct.restore() }, 500)
    })
    const result = await run
    expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
    expect(result.recoveries).toHaveLength(1)
    const [recovery] = result.recoveries
    // Silent paths, not closed ones: found by the dead timeout, not by a close.
    expect(recovery!.lostAt - silencedAt).toBeGreaterThanOrEqual(1000)
    expect(recovery!.lostAt - silencedAt).toBeLessThan(4000)
    expect(recovery!.paths).toEqual(['webrtc'])
    const downs = result.pathReports.filter((p) => p.status !== 'up').map((p) => `${p.path}:${p.status}`)
    expect(downs).toContain('relay:failed')
  })

  it('dials a lost path again in the background while another carries, and it joins again', async () => {
    const relay = path('relay', 'relay', 4 * MB)
    const direct = path('webrtc', 'webrtc-direct', 4 * MB)
    const r = await start([relay, direct])
    let relayBytesAtCut = 0
    const { run } = fetchWithFault(r, 2 * MiB, () => {
      relay.cut()
      setTimeout(() => { relay.restore() }, 300)
    }, {
      onPeerPaths: (peer) => {
        peer.addEventListener('path:down', (e) => {
          if (e.detail.path === 'relay' && relayBytesAtCut === 0) relayBytesAtCut = peer.report().find((p) => p.path === 'relay')?.bytes ?? 0
        })
      }
    })
    const result = await run
    expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
    // Never all down: no recovery, the relay came back on its own round.
    expect(result.recoveries).toEqual([])
    expect(relay.dials).toBe(2)
    const relayReport = result.pathReports.find((p) => p.path === 'relay')!
    expect(relayReport.status).toBe('up')
    expect(relayReport.bytes!).toBeGreaterThan(relayBytesAtCut)
  })

  it('fails once the retry budget is spent, with an error naming each path, how it died and when', async () => {
    const relay = path('relay', 'relay')
    const direct = path('webrtc', 'webrtc-direct')
    const r = await start([relay, direct], { retryBudget: 1500 })
    const t0 = Date.now()
    let cutAt = 0
    const { run } = fetchWithFault(r, 4 * MiB, () => {
      cutAt = Date.now()
      relay.cut()
      direct.cut()
    })
    const err = await run.then(() => undefined, (e: Error) => e)
    expect(err).toMatchObject({ name: 'PathsLostError', code: 'paths-lost' })
    expect(err!.message).toMatch(/Lost every path to provider at \S+; none came back within 1\.5 s/)
    expect(err!.message).toMatch(/relay: lost at \S+ \(.*relay link cut.*\); \d+ dials? failed since, the last at \S+ \(relay: no route to the provider\)/)
    expect(err!.message).toMatch(/webrtc: lost at \S+ \(.*webrtc link cut.*\); \d+ dials? failed/)
    // Given up when the budget ran out, not long after.
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(1500)
    expect(Date.now() - cutAt).toBeLessThan(5000)
    expect(cutAt).toBeGreaterThan(t0)
  })

  it('with a retry budget of 0 gives a provider up at once', async () => {
    const relay = path('relay', 'relay')
    const r = await start([relay], { retryBudget: 0 })
    const { run } = fetchWithFault(r, 4 * MiB, () => { relay.cut() })
    await expect(run).rejects.toMatchObject({ code: 'paths-lost' })
    expect(relay.dials).toBe(1)
  })

  it('leaves a path that keeps failing alone on the next fetch, and dials it again when the peer\'s addresses change', async () => {
    const relay = path('relay', 'relay')
    const direct = path('webrtc', 'webrtc-direct')
    direct.reachable = false
    const r = await start([relay, direct])
    const fetchOnce = async (multiaddrs: string[]) => {
      const result = await r.fetch(manifest.cid, { providers: [{ peerId: 'provider', multiaddrs: multiaddrs.map((a) => multiaddr(a)) }], signal: AbortSignal.timeout(30_000) })
      expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
      return result.pathReports.find((p) => p.path === 'webrtc')!
    }
    expect((await fetchOnce(['/ip4/198.18.0.1/tcp/1'])).status).toBe('failed')
    expect(direct.dials).toBe(1)
    const second = await fetchOnce(['/ip4/198.18.0.1/tcp/1'])
    expect(second.status).toBe('skipped')
    expect(second.error).toMatch(/not dialled: 1 dial in a row failed.*next try in \d+ s/)
    expect(direct.dials).toBe(1)
    expect(r.race.remote('provider')?.paths.find((p) => p.path === 'webrtc')).toMatchObject({ lastOutcome: 'failed', failures: 1 })
    // New addresses: something changed, worth a try again.
    expect((await fetchOnce(['/ip4/198.18.0.2/tcp/1'])).status).toBe('failed')
    expect(direct.dials).toBe(2)
  })
})
