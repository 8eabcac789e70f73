import { isChiralError } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { PathSelector } from './path-selector.js'
import { PeerPaths } from './peer-paths.js'
import type { PathSelectorInit } from './path-selector.js'
import type { PathDownDetail, PathEventDetail, PathReport, PathSwitchDetail, PeerPathsEvents, PeerPathsInit } from './peer-paths.js'
import type { Transfer } from '../receiver/transfer.js'
import type { AbortOptions, PathDialer, PeerTarget } from '@chiral/core'

export interface PathRaceComponents {
  /** Every path to try; all start at once. */
  dialers: PathDialer[]
}

export interface PathRaceInit extends PathSelectorInit, PeerPathsInit {
  /** Time limit of one path's dial, ms (default 30 s). */
  dialTimeout?: number
}

export type PathRaceEvents = PeerPathsEvents

export interface RunOptions extends AbortOptions {
  /** Called with the peer's paths before any dial starts (to watch their events). */
  onPeer?: (peer: PeerPaths) => void
}

/** What a peer's paths did the last time they were raced (kept across fetches). */
export interface PeerHistory {
  peerId: string
  lastRaceAt: number
  paths: PathReport[]
}

const log = logger('chiral:transport:race')

/**
 * Happy eyeballs for paths: every dialer starts at once for a peer; the
 * first channel that is ready starts the transfer, later ones join it, and
 * the peer's `PathSelector` moves new requests to the best path (direct over
 * relay) at chunk boundaries. When the active path dies the next one carries
 * on. Nothing waits for a slow or failing path: a WebRTC dial that never
 * connects only costs its own timeout, in the background.
 *
 * ```
 *   run(transfer, peer) ─┬─ relay dial ──────► up ─► attach (active until direct is up)
 *                        ├─ webrtc dial ───────────► up ─► attach, becomes active (switch)
 *                        └─ libp2p-webrtc dial ─► failed
 * ```
 */
export class PathRace extends TypedEventEmitter<PathRaceEvents> {
  private readonly dialers: PathDialer[]
  private readonly init: PathRaceInit
  private readonly history = new Map<string, PeerHistory>()

  constructor (components: PathRaceComponents, init: PathRaceInit = {}) {
    super()
    this.dialers = components.dialers
    this.init = init
  }

  /** The outcome of the last race to `peerId`, if any. */
  lastRace (peerId: string): PeerHistory | undefined {
    return this.history.get(peerId)
  }

  /**
   * Dials every path to `target` at once and attaches each channel to
   * `transfer` as it comes up. Resolves once every dial has settled, with the
   * peer's paths (`report()` says what each did).
   */
  async run (transfer: Transfer, target: PeerTarget, protocol: string, options: RunOptions = {}): Promise<PeerPaths> {
    const peer = new PeerPaths(target.peerId, transfer, new PathSelector(this.init), this.init)
    options.onPeer?.(peer)
    const forward = <K extends keyof PathRaceEvents>(type: K) => (event: Event): void => {
      this.safeDispatchEvent(type, { detail: (event as CustomEvent).detail as PathEventDetail & PathDownDetail & PathSwitchDetail })
    }
    const listeners = (['path:up', 'path:down', 'path:switch'] as const).map((type) => [type, forward(type)] as const)
    for (const [type, fn] of listeners) peer.addEventListener(type, fn)

    // Dials end when the transfer does: nothing more to carry.
    const done = new AbortController()
    void transfer.result.finally(() => { done.abort() }).catch(() => {})
    const signal = AbortSignal.any([done.signal, AbortSignal.timeout(this.init.dialTimeout ?? 30_000), ...(options.signal == null ? [] : [options.signal])])

    for (const dialer of this.dialers) peer.dialing(dialer.name, dialer.method)
    await Promise.all(this.dialers.map(async (dialer) => {
      try {
        const channel = await dialer.dial(target, protocol, { signal })
        if (transfer.finished) {
          await channel.close().catch(() => {})
          peer.failed(dialer.name, new Error('The transfer had already finished'))
          return
        }
        peer.up(dialer.name, channel)
      } catch (err) {
        if (!isChiralError(err, 'aborted') || !done.signal.aborted) log('%s path to %s failed - %s', dialer.name, target.peerId, (err as Error).message)
        peer.failed(dialer.name, err as Error)
      }
    }))
    this.history.set(target.peerId, { peerId: target.peerId, lastRaceAt: Date.now(), paths: peer.report() })
    void transfer.result.finally(() => {
      for (const [type, fn] of listeners) peer.removeEventListener(type, fn)
      this.history.set(target.peerId, { peerId: target.peerId, lastRaceAt: Date.now(), paths: peer.report() })
    }).catch(() => {})
    return peer
  }
}
