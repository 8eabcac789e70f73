import { isChiralError } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { PathDialError, PathsLostError, ProviderStalledError } from '../errors.js'
import type { PathRace } from '../race/race.js'
import type { PathLoss, PeerPaths } from '../race/peer-paths.js'
import type { Transfer } from './transfer.js'
import type { PeerTarget } from '@chiral/core'

/** How a fetch gets a provider back after losing every path to it. */
export interface RecoveryInit {
  /**
   * How long a fetch keeps re-dialing a provider whose paths are all down,
   * per outage (the clock starts when the last path goes), ms (default 60 s;
   * 0: no recovery, the provider is given up at once).
   */
  retryBudget?: number
  /** Pause after the first re-dial that fails, ms (default 500); doubles up to `maxRetryDelay`. */
  retryDelay?: number
  /** Longest pause between re-dials, ms (default 5 s). */
  maxRetryDelay?: number
}

/** One outage of a provider and how it ended. */
export interface Recovery {
  peerId: string
  /** When its last path went down. */
  lostAt: number
  /** When a path was up again. */
  backAt: number
  /** Re-dial rounds it took. */
  attempts: number
  /** The paths up after it. */
  paths: string[]
}

/** Progress while every path to a provider is down. */
export interface ReconnectingDetail {
  peerId: string
  /** Re-dial rounds so far. */
  attempt: number
  lostAt: number
  /** What is left of the retry budget, ms. */
  budgetLeftMs: number
}

export interface ProviderLinkHooks {
  signal?: AbortSignal | undefined
  onPeer?: (peer: PeerPaths) => void
  onReconnecting?: (detail: ReconnectingDetail) => void
  onRecovered?: (recovery: Recovery) => void
}

/** Channel errors that are the provider's doing: re-dialing would not help. */
const PROVIDER_FAULTS = new Set(['content-not-found', 'content-unavailable', 'provider-misbehaved', 'transfer-protocol-error'])

/** Outages in a row, each ended by a stalled channel and with no chunk verified between them, before a provider is given up. */
const MAX_STALLED_OUTAGES = 3

const log = logger('chiral:transport:recovery')

/**
 * One provider of one fetch, for as long as the fetch runs:
 *
 * ```
 *   race ──some path up──► carrying ──every path down──► reconnecting ──a path up──► carrying
 *     │                       ▲                            │  re-dial all paths: at once, then
 *     └─no path: PathDialError │                           │  after 0.5 s, 1 s, 2 s … ≤ 5 s
 *                              │                           └─budget spent: PathsLostError
 *   a channel closed for the provider's own fault (bad data, no such content): given up, no re-dial
 *   one path down while another carries: dialled again in the background (2 s, doubling to 30 s)
 * ```
 *
 * The transfer keeps its verified chunks throughout: once a path is back,
 * the same fetch goes on from them.
 */
export class ProviderLink {
  readonly target: PeerTarget
  readonly recoveries: Recovery[] = []
  peer?: PeerPaths
  private readonly race: PathRace
  private readonly transfer: Transfer
  private readonly protocol: string
  private readonly init: RecoveryInit
  private readonly hooks: ProviderLinkHooks
  private backgroundTimer?: ReturnType<typeof setTimeout>
  private backgroundDelay = 2000
  private stalledOutages = 0
  private verifiedAtLastStall = -1

  constructor (race: PathRace, transfer: Transfer, target: PeerTarget, protocol: string, init: RecoveryInit, hooks: ProviderLinkHooks = {}) {
    this.race = race
    this.transfer = transfer
    this.target = target
    this.protocol = protocol
    this.init = init
    this.hooks = hooks
  }

  /**
   * Resolves when the transfer has finished; rejects when this provider is
   * given up (no path at all at the start, a provider fault, or the retry
   * budget spent in an outage).
   */
  async run (): Promise<void> {
    const peer = await this.race.run(this.transfer, this.target, this.protocol, {
      ...(this.hooks.signal == null ? {} : { signal: this.hooks.signal }),
      ...(this.hooks.onPeer == null ? {} : { onPeer: this.hooks.onPeer })
    })
    this.peer = peer
    if (this.transfer.finished) return
    if (!peer.report().some((r) => r.status === 'up' || r.status === 'down')) throw this.noPath(peer)
    const onDown = (): void => { this.redialInBackground(peer) }
    peer.addEventListener('path:down', onDown)
    void this.transfer.result.finally(() => { peer.removeEventListener('path:down', onDown) }).catch(() => {})
    for (;;) {
      await this.untilAllDown(peer)
      if (this.transfer.finished) return
      const fault = peer.channelErrors.find((e) => isChiralError(e) && PROVIDER_FAULTS.has(e.code))
      if (fault !== undefined) throw fault
      this.countStall(peer)
      await this.recover(peer)
      if (this.transfer.finished) return
    }
  }

  /**
   * A provider that accepts every re-dial and then stalls again would be
   * re-dialled for ever: after `MAX_STALLED_OUTAGES` stalled outages in a
   * row with no chunk of the fetch verified in between, it is given up.
   */
  private countStall (peer: PeerPaths): void {
    const stalled = peer.channelErrors.find((e) => isChiralError(e, ProviderStalledError.code))
    if (stalled === undefined) {
      this.stalledOutages = 0
      return
    }
    if (this.transfer.bytesVerified !== this.verifiedAtLastStall) this.stalledOutages = 0
    this.verifiedAtLastStall = this.transfer.bytesVerified
    this.stalledOutages++
    log('%s stalled (%d in a row) - %s', this.target.peerId, this.stalledOutages, stalled.message)
    if (this.stalledOutages >= MAX_STALLED_OUTAGES) throw stalled
  }

  /**
   * A path went down while another still carries: dial it again after a
   * pause (2 s, doubling to 30 s per round), so a path that comes back (a
   * relay after its restart, WebRTC after a NAT rebinding) joins again. One
   * round at a time; paths whose dials keep failing stay in their backoff.
   */
  private redialInBackground (peer: PeerPaths): void {
    if (this.backgroundTimer !== undefined || this.transfer.finished || !peer.connected) return
    const delay = this.backgroundDelay
    this.backgroundDelay = Math.min(delay * 2, 30_000)
    this.backgroundTimer = setTimeout(() => {
      if (this.transfer.finished || !peer.connected) {
        this.backgroundTimer = undefined
        return
      }
      void this.race.run(this.transfer, this.target, this.protocol, {
        peer,
        ...(this.hooks.signal == null ? {} : { signal: this.hooks.signal })
      }).catch(() => {}).finally(() => {
        this.backgroundTimer = undefined
        // Still a path down with others up: another round, later.
        if (peer.report().some((r) => r.status === 'down')) this.redialInBackground(peer)
      })
    }, delay)
    this.backgroundTimer.unref?.()
  }

  /** Resolves once no path is up or being dialled (or the transfer is over). */
  private async untilAllDown (peer: PeerPaths): Promise<void> {
    const down = (): boolean => this.transfer.finished || (!peer.connected && peer.dialingCount === 0)
    if (down()) return
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (!down()) return
        clearInterval(timer)
        peer.removeEventListener('path:down', check)
        resolve()
      }
      // Events say when; the timer covers a channel that closes without one (and the transfer's end).
      const timer = setInterval(check, 250)
      peer.addEventListener('path:down', check)
      void this.transfer.result.finally(check).catch(() => {})
    })
  }

  /** Resolves once some path is up (or the transfer is over). */
  private async untilConnected (peer: PeerPaths): Promise<void> {
    if (peer.connected || this.transfer.finished) return
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (!peer.connected && !this.transfer.finished) return
        peer.removeEventListener('path:up', check)
        resolve()
      }
      peer.addEventListener('path:up', check)
      void this.transfer.result.finally(check).catch(() => {})
    })
  }

  private async recover (peer: PeerPaths): Promise<void> {
    const budget = this.init.retryBudget ?? 60_000
    const lostAt = Date.now()
    let delay = this.init.retryDelay ?? 500
    log('every path to %s is down, re-dialing for up to %d ms', this.target.peerId, budget)
    for (let attempt = 0; ; attempt++) {
      const left = budget - (Date.now() - lostAt)
      if (left <= 0 || this.hooks.signal?.aborted === true) {
        clearTimeout(this.backgroundTimer)
        throw this.lost(peer, lostAt, attempt, budget)
      }
      this.hooks.onReconnecting?.({ peerId: this.target.peerId, attempt, lostAt, budgetLeftMs: left })
      if (attempt > 0) {
        await pause(Math.min(delay, left), this.transfer)
        delay = Math.min(delay * 2, this.init.maxRetryDelay ?? 5000)
        if (this.transfer.finished) return
      }
      const remaining = Math.max(1, budget - (Date.now() - lostAt))
      const signal = AbortSignal.any([AbortSignal.timeout(remaining), ...(this.hooks.signal == null ? [] : [this.hooks.signal])])
      // Back as soon as one path is up: the other dials go on and join when they can.
      const dials = this.race.run(this.transfer, this.target, this.protocol, { signal, peer, ignoreBackoff: true })
      await Promise.race([dials, this.untilConnected(peer)])
      if (this.transfer.finished) return
      if (peer.connected) {
        const recovery: Recovery = {
          peerId: this.target.peerId,
          lostAt,
          backAt: Date.now(),
          attempts: attempt + 1,
          paths: peer.report().filter((r) => r.status === 'up').map((r) => r.path)
        }
        this.recoveries.push(recovery)
        log('%s back after %d ms on %s', this.target.peerId, recovery.backAt - lostAt, recovery.paths.join(', '))
        this.hooks.onRecovered?.(recovery)
        return
      }
    }
  }

  private noPath (peer: PeerPaths): PathDialError {
    const failed = peer.report().filter((r) => r.error !== undefined)
    return new PathDialError(
      `No path to ${this.target.peerId}: ${failed.map((r) => `${r.path}: ${r.error ?? ''}`).join('; ')}`,
      { cause: new AggregateError(failed.map((r) => new Error(`${r.path}: ${r.error ?? ''}`))) }
    )
  }

  private lost (peer: PeerPaths, lostAt: number, attempts: number, budget: number): PathsLostError {
    const byPath = new Map<string, PathLoss[]>()
    for (const loss of peer.losses) byPath.set(loss.path, [...(byPath.get(loss.path) ?? []), loss])
    const parts = [...byPath].map(([path, losses]) => describePath(path, losses))
    return new PathsLostError(
      `Lost every path to ${this.target.peerId} at ${time(lostAt)}; none came back within ${Math.round(budget / 100) / 10} s ` +
      `(${attempts} re-dial round${attempts === 1 ? '' : 's'}). ${parts.join('. ')}`
    )
  }
}

/** `relay: lost at … (why); 4 re-dials failed, the last at … (why)` */
function describePath (path: string, losses: PathLoss[]): string {
  const lastLost = losses.filter((l) => l.kind === 'lost').at(-1)
  const failedAfter = losses.filter((l) => l.kind === 'dial-failed' && l.at >= (lastLost?.at ?? 0))
  const lastFailed = failedAfter.at(-1)
  const died = lastLost === undefined ? 'never up' : `lost at ${time(lastLost.at)} (${lastLost.error})`
  const dials = lastFailed === undefined
    ? ''
    : `; ${failedAfter.length} dial${failedAfter.length === 1 ? '' : 's'} failed since, the last at ${time(lastFailed.at)} (${lastFailed.error})`
  return `${path}: ${died}${dials}`
}

function time (at: number): string {
  return new Date(at).toISOString()
}

/** Waits `ms`, or less if the transfer ends meanwhile. */
async function pause (ms: number, transfer: Transfer): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    void transfer.result.finally(() => { clearTimeout(timer); resolve() }).catch(() => {})
  })
}
