import { TypedEventEmitter } from 'main-event'
import { transition } from './path-state.js'
import type { PathRole, PathSelector } from './path-selector.js'
import type { PathInfo, PathState } from './path-state.js'
import type { AttachedChannel, Transfer } from '../receiver/transfer.js'
import type { TransferMethod } from '@chiral/core'

export interface PathEventDetail {
  peerId: string
  path: string
  method: TransferMethod
  setupMs: number
}

export interface PathDownDetail extends PathEventDetail {
  error?: string
}

export interface PathSwitchDetail {
  peerId: string
  from?: string
  to: string
  method: TransferMethod
  /** Verified bytes of the file when the switch happened. */
  atBytes: number
  at: number
}

export interface PeerPathsEvents {
  'path:up': CustomEvent<PathEventDetail>
  'path:down': CustomEvent<PathDownDetail>
  'path:switch': CustomEvent<PathSwitchDetail>
}

/** One path's outcome, for the fetch result. */
export interface PathReport {
  peerId: string
  path: string
  method: TransferMethod
  status: PathState['status']
  /** From the start of the dial to a usable channel (or to the failure). */
  setupMs?: number
  /** Chunk bytes this path carried for the fetch. */
  bytes?: number
  /** Its fraction of the bytes all of this peer's paths carried (0–1). */
  share?: number
  /** Bytes per second while busy, last measured. */
  goodput?: number
  /** Smallest request-to-first-byte time seen, ms. */
  rttMs?: number
  /** What the selector last did with it. */
  role?: PathRole
  error?: string
}

/**
 * The state of one remote peer's paths during a fetch: owns each path's state
 * (one transition function), attaches channels to the transfer as they come
 * up, and asks the selector which one carries new requests after every change.
 */
export interface PeerPathsInit {
  /**
   * A path with chunks in flight that delivers no byte for this long, while
   * another path to the peer is up, is dropped (its chunks go to the other
   * path), ms (default 3 s). A dead direct path is often silent rather than
   * closed.
   */
  stallTimeout?: number
}

export class PeerPaths extends TypedEventEmitter<PeerPathsEvents> {
  readonly peerId: string
  private readonly transfer: Transfer
  private readonly selector: PathSelector
  private readonly paths = new Map<string, PathInfo>()
  private readonly progress = new Map<number, { bytes: number, at: number }>()
  private readonly stallTimeout: number
  private readonly watchdog: ReturnType<typeof setInterval>
  private active?: string
  /** What the selector last did with each path, by path name. */
  private readonly roles = new Map<string, PathRole>()

  constructor (peerId: string, transfer: Transfer, selector: PathSelector, init: PeerPathsInit = {}) {
    super()
    this.peerId = peerId
    this.transfer = transfer
    this.selector = selector
    this.stallTimeout = init.stallTimeout ?? 3000
    transfer.addEventListener('channel:detach', this.onDetach)
    // Goodput changes continuously: windows and demotions are revisited on every tick.
    this.watchdog = setInterval(() => {
      this.checkStalls()
      this.reselect()
    }, Math.max(50, Math.min(250, this.stallTimeout / 4)))
    this.watchdog.unref?.()
    void transfer.result.finally(() => {
      clearInterval(this.watchdog)
      transfer.removeEventListener('channel:detach', this.onDetach)
    }).catch(() => {})
  }

  /** A dial of path `name` started. */
  dialing (name: string, method: TransferMethod, startedAt = Date.now()): void {
    this.paths.set(name, { name, method, state: { status: 'dialing', startedAt } })
    this.reselect()
  }

  /** Path `name` has a channel: attach it (paused until the selector says otherwise). */
  up (name: string, channel: Parameters<Transfer['attach']>[0]): AttachedChannel {
    const info = this.require(name)
    const setupMs = Date.now() - info.state.startedAt
    const attached = this.transfer.attach(channel, { label: `${name}:${this.peerId.slice(-8)}`, paused: true })
    info.state = transition(info.state, { status: 'up', startedAt: info.state.startedAt, setupMs, channel: attached })
    this.safeDispatchEvent('path:up', { detail: { peerId: this.peerId, path: name, method: info.method, setupMs } })
    this.reselect()
    return attached
  }

  /** The dial of path `name` failed. */
  failed (name: string, error: Error): void {
    const info = this.require(name)
    info.state = transition(info.state, { status: 'failed', startedAt: info.state.startedAt, setupMs: Date.now() - info.state.startedAt, error })
    this.reselect()
  }

  /** Paths still being dialled. */
  get dialingCount (): number {
    return [...this.paths.values()].filter((p) => p.state.status === 'dialing').length
  }

  /** The path carrying new requests. */
  get activePath (): string | undefined {
    return this.active
  }

  report (): PathReport[] {
    const all = [...this.paths.values()]
    const carried = (p: PathInfo): AttachedChannel | undefined => p.state.status === 'up' || p.state.status === 'down' ? p.state.channel : undefined
    const total = all.reduce((n, p) => n + (carried(p)?.bytes ?? 0), 0)
    return all.map((p) => ({
      peerId: this.peerId,
      path: p.name,
      method: p.method,
      status: p.state.status,
      ...(p.state.status === 'dialing' ? {} : { setupMs: p.state.setupMs }),
      ...channelReport(carried(p), total),
      ...(this.roles.has(p.name) ? { role: this.roles.get(p.name)! } : {}),
      ...(p.state.status === 'failed' ? { error: p.state.error.message } : {}),
      ...(p.state.status === 'down' && p.state.error !== undefined ? { error: p.state.error.message } : {})
    }))
  }

  private require (name: string): PathInfo {
    const info = this.paths.get(name)
    if (info === undefined) throw new Error(`unknown path ${name}`)
    return info
  }

  private readonly onDetach = (event: CustomEvent<AttachedChannel>): void => {
    const channel = event.detail
    for (const info of this.paths.values()) {
      if (info.state.status === 'up' && info.state.channel.id === channel.id) {
        const { startedAt, setupMs } = info.state
        info.state = transition(info.state, { status: 'down', startedAt, setupMs, channel })
        this.safeDispatchEvent('path:down', { detail: { peerId: this.peerId, path: info.name, method: info.method, setupMs } })
        this.reselect()
        return
      }
    }
  }

  /** Drops a path that owes chunks but has delivered nothing for `stallTimeout`, if another path is up. */
  private checkStalls (now = Date.now()): void {
    const up = [...this.paths.values()].filter((p) => p.state.status === 'up')
    for (const info of up) {
      if (info.state.status !== 'up') continue
      const channel = info.state.channel
      const seen = this.progress.get(channel.id)
      if (seen === undefined || seen.bytes !== channel.bytes || channel.inFlight === 0) {
        this.progress.set(channel.id, { bytes: channel.bytes, at: now })
        continue
      }
      const others = up.some((p) => p !== info && p.state.status === 'up' && p.state.channel.state !== 'closed')
      if (others && now - seen.at >= this.stallTimeout) {
        const { startedAt, setupMs } = info.state
        info.state = transition(info.state, { status: 'down', startedAt, setupMs, channel, error: new Error(`stalled: no data for ${now - seen.at} ms`) })
        this.safeDispatchEvent('path:down', { detail: { peerId: this.peerId, path: info.name, method: info.method, setupMs, error: 'stalled' } })
        this.transfer.detach(channel)
        this.reselect()
      }
    }
  }

  private reselect (): void {
    if (this.transfer.finished) return
    const selection = this.selector.select([...this.paths.values()], this.active, {
      chunkBytes: this.transfer.manifest?.chunkSize ?? 1024 * 1024,
      defaultWindow: this.transfer.defaultWindow
    })
    for (const plan of selection.plans) {
      this.roles.set(plan.path, plan.role)
      if (plan.channel.state === 'closed') continue
      const window = plan.window ?? this.transfer.defaultWindow
      if (plan.channel.window !== window) this.transfer.setWindow(plan.channel, window)
      if (plan.channel.paused !== plan.paused) this.transfer.setPaused(plan.channel, plan.paused)
    }
    const next = selection.active?.name
    if (next !== undefined && next !== this.active) {
      const from = this.active
      this.active = next
      this.safeDispatchEvent('path:switch', {
        detail: {
          peerId: this.peerId,
          ...(from === undefined ? {} : { from }),
          to: next,
          method: selection.active!.method,
          atBytes: this.transfer.bytesVerified,
          at: Date.now()
        }
      })
    }
  }
}

function channelReport (channel: AttachedChannel | undefined, total: number): Pick<PathReport, 'bytes' | 'share' | 'goodput' | 'rttMs'> {
  if (channel === undefined) return {}
  return {
    bytes: channel.bytes,
    share: total > 0 ? Number((channel.bytes / total).toFixed(3)) : 0,
    ...(channel.goodput === undefined ? {} : { goodput: channel.goodput }),
    ...(channel.rttMs === undefined ? {} : { rttMs: channel.rttMs })
  }
}
