import { isChiralError } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { PathSelector } from './path-selector.js'
import { PeerPaths } from './peer-paths.js'
import { RemotePeer } from './remote-peer.js'
import type { PathSelectorInit } from './path-selector.js'
import type { RemotePeerInit } from './remote-peer.js'
import type { PeerPathsEvents, PeerPathsInit } from './peer-paths.js'
import type { Transfer } from '../receiver/transfer.js'
import type { AbortOptions, PathDialer, PeerTarget } from '@chiral/core'

export interface PathRaceComponents {
  /** Every path to try; all start at once. */
  dialers: PathDialer[]
}

export interface PathRaceInit extends PathSelectorInit, PeerPathsInit, RemotePeerInit {
  /** Time limit of one path's dial, ms (default 30 s). */
  dialTimeout?: number
  /** Remote peers remembered at most (the least recently raced are forgotten), default 1024. */
  maxRemotePeers?: number
}

export type PathRaceEvents = PeerPathsEvents

export interface RunOptions extends AbortOptions {
  /** Called with the peer's paths before any dial starts (to watch their events). */
  onPeer?: (peer: PeerPaths) => void
  /** Dial again the paths of these peer paths that are not up (a recovery), instead of starting new ones. */
  peer?: PeerPaths
  /** Dial paths in backoff too (default false; a recovery sets it: the network may have changed). */
  ignoreBackoff?: boolean
}

const log = logger('chiral:transport:race')

/**
 * Happy eyeballs for paths: every dialer starts at once for a peer; the
 * first channel that is ready starts the transfer, later ones join it, and
 * the peer's `PathSelector` spreads chunks over the paths by what they
 * measure. Nothing waits for a slow or failing path: a WebRTC dial that never
 * connects only costs its own timeout, in the background.
 *
 * ```
 *   run(transfer, peer) ─┬─ relay dial ──────► up ─► attach
 *                        ├─ webrtc dial ───────────► up ─► attach (the selector weighs both)
 *                        └─ libp2p-webrtc dial ─► failed ─► remembered: left alone for a while
 * ```
 *
 * What each path did is kept per remote peer (`remote(peerId)`) across
 * fetches, so a path that keeps failing is not dialled by every fetch.
 */
export class PathRace extends TypedEventEmitter<PathRaceEvents> {
  private readonly dialers: PathDialer[]
  private readonly init: PathRaceInit
  private readonly remotes = new Map<string, RemotePeer>()

  constructor (components: PathRaceComponents, init: PathRaceInit = {}) {
    super()
    this.dialers = components.dialers
    this.init = init
  }

  /** What is known about `peerId` from earlier races, if it was ever raced. */
  remote (peerId: string): RemotePeer | undefined {
    return this.remotes.get(peerId)
  }

  /**
   * Dials every path to `target` at once and attaches each channel to
   * `transfer` as it comes up. Resolves once every dial has settled, with the
   * peer's paths (`report()` says what each did).
   */
  async run (transfer: Transfer, target: PeerTarget, protocol: string, options: RunOptions = {}): Promise<PeerPaths> {
    let remote = this.remotes.get(target.peerId)
    if (remote === undefined) remote = new RemotePeer(target.peerId, this.init)
    // Most recently raced last; the least recently raced go first past the limit.
    this.remotes.delete(target.peerId)
    this.remotes.set(target.peerId, remote)
    for (const oldest of this.remotes.keys()) {
      if (this.remotes.size <= (this.init.maxRemotePeers ?? 1024)) break
      this.remotes.delete(oldest)
    }
    remote.noteTarget(target)
    const peer = options.peer ?? this.newPeer(transfer, target, options)

    // Dials end when the transfer does: nothing more to carry.
    const done = new AbortController()
    void transfer.result.finally(() => { done.abort() }).catch(() => {})
    const signal = AbortSignal.any([done.signal, AbortSignal.timeout(this.init.dialTimeout ?? 30_000), ...(options.signal == null ? [] : [options.signal])])

    const now = Date.now()
    const busy = new Set(peer.report().filter((r) => r.status === 'up' || r.status === 'dialing').map((r) => r.path))
    const dialers = this.dialers.filter((d) => !busy.has(d.name))
    const toDial = dialers.filter((d) => {
      const held = options.ignoreBackoff === true ? undefined : remote.backoff(d.name, now)
      if (held !== undefined) peer.skipped(d.name, d.method, held)
      return held === undefined
    })
    for (const dialer of toDial) peer.dialing(dialer.name, dialer.method)
    await Promise.all(toDial.map(async (dialer) => {
      const startedAt = Date.now()
      try {
        const channel = await dialer.dial(target, protocol, { signal })
        if (transfer.finished) {
          await channel.close().catch(() => {})
          peer.failed(dialer.name, new Error('The transfer had already finished'))
          return
        }
        remote.dialed(dialer.name, dialer.method, Date.now() - startedAt)
        peer.up(dialer.name, channel)
      } catch (err) {
        const cutShort = done.signal.aborted || options.signal?.aborted === true
        if (!isChiralError(err, 'aborted') || !cutShort) log('%s path to %s failed - %s', dialer.name, target.peerId, (err as Error).message)
        if (!cutShort) remote.dialFailed(dialer.name, dialer.method, err as Error)
        peer.failed(dialer.name, err as Error)
      }
    }))
    return peer
  }

  private newPeer (transfer: Transfer, target: PeerTarget, options: RunOptions): PeerPaths {
    const peer = new PeerPaths(target.peerId, transfer, new PathSelector(this.init), this.init)
    options.onPeer?.(peer)
    const forward = (type: keyof PathRaceEvents) => (event: Event): void => {
      this.safeDispatchEvent(type, { detail: (event as CustomEvent).detail })
    }
    const listeners = (['path:dialing', 'path:failed', 'path:up', 'path:down', 'path:switch'] as const).map((type) => [type, forward(type)] as const)
    for (const [type, fn] of listeners) peer.addEventListener(type, fn)
    void transfer.result.finally(() => {
      for (const [type, fn] of listeners) peer.removeEventListener(type, fn)
      this.remotes.get(target.peerId)?.measured(peer.report())
    }).catch(() => {})
    return peer
  }
}
