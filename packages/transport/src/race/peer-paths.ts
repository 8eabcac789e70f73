import { TypedEventEmitter } from 'main-event'
import { transition } from './path-state.js'
import type { PathRole, PathSelector } from './path-selector.js'
import type { PathInfo, PathState } from './path-state.js'
import type { AttachedChannel, Transfer } from '../receiver/transfer.js'
import type { TransferMethod } from '@chiral/core'

export interface PathEventDetail {
  peerId: string
  /** The content id of the fetch the path belongs to. */
  cid: string
  path: string
  method: TransferMethod
  setupMs: number
}

export interface PathDownDetail extends PathEventDetail {
  error?: string
}

/** A dial of a path started (`attempt` counts the dials of this path in this fetch, from 1). */
export interface PathDialingDetail {
  peerId: string
  /** The content id of the fetch the path belongs to. */
  cid: string
  path: string
  method: TransferMethod
  attempt: number
}

/** A dial of a path gave no channel: `setupMs` is how long it tried. */
export interface PathFailedDetail extends PathEventDetail {
  error: string
}

export interface PathSwitchDetail {
  peerId: string
  /** The content id of the fetch. */
  cid: string
  from?: string
  to: string
  method: TransferMethod
  /** Verified bytes of the file when the switch happened. */
  atBytes: number
  at: number
}

export interface PeerPathsEvents {
  'path:dialing': CustomEvent<PathDialingDetail>
  'path:failed': CustomEvent<PathFailedDetail>
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
  /** Chunk bytes this path carried for the fetch (every channel of it, re-dials included). */
  bytes?: number
  /** Its fraction of the bytes all of this peer's paths carried (0–1). */
  share?: number
  /** Bytes per second while busy, last measured. */
  goodput?: number
  /** Smallest request-to-first-byte time seen, ms. */
  rttMs?: number
  /** From the start of its (last) dial to its first chunk byte, ms. */
  firstByteMs?: number
  /** The largest message its (last) channel carries. */
  maxMessageSize?: number
  /** What the selector last did with it. */
  role?: PathRole
  error?: string
}

/** A path that went down or a dial of it that failed: what a recovery error tells. */
export interface PathLoss {
  path: string
  method: TransferMethod
  /** `lost`: it was up and died; `dial-failed`: a dial of it did not give a channel. */
  kind: 'lost' | 'dial-failed'
  at: number
  error: string
}

export interface PeerPathsInit {
  /**
   * A path with chunks in flight that delivers no byte for this long, while
   * another path to the peer is up, is dropped (its chunks go to the other
   * path), ms (default 3 s). A dead direct path is often silent rather than
   * closed.
   */
  stallTimeout?: number
  /**
   * A path with chunks in flight that delivers no byte for this long is
   * dropped even when it is the only one (the fetch then re-dials), ms
   * (default 5 s). Found from the transfer's own data, this is much sooner
   * than TCP or libp2p's pings notice a connection whose NAT mapping or host
   * vanished.
   */
  deadTimeout?: number
}

/**
 * The state of one remote peer's paths during a fetch: owns each path's state
 * (one transition function), attaches channels to the transfer as they come
 * up, and asks the selector which one carries new requests after every change.
 */

export class PeerPaths extends TypedEventEmitter<PeerPathsEvents> {
  readonly peerId: string
  /** The content id of the fetch. */
  readonly cid: string
  private readonly transfer: Transfer
  private readonly selector: PathSelector
  private readonly paths = new Map<string, PathInfo>()
  private readonly progress = new Map<number, { bytes: number, at: number }>()
  private readonly stallTimeout: number
  private readonly deadTimeout: number
  private readonly lossLog: PathLoss[] = []
  /** Bytes carried by channels of a path before its latest dial, by path name. */
  private readonly earlierBytes = new Map<string, number>()
  private readonly watchdog: ReturnType<typeof setInterval>
  private active?: string
  /** What the selector last did with each path, by path name. */
  private readonly roles = new Map<string, PathRole>()
  /** Dials started per path name. */
  private readonly dials = new Map<string, number>()

  constructor (peerId: string, transfer: Transfer, selector: PathSelector, init: PeerPathsInit = {}) {
    super()
    this.peerId = peerId
    this.cid = transfer.cid.toString()
    this.transfer = transfer
    this.selector = selector
    this.stallTimeout = init.stallTimeout ?? 3000
    this.deadTimeout = Math.max(this.stallTimeout, init.deadTimeout ?? 5000)
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

  /** A dial of path `name` started (again, for a path that failed or went down). */
  dialing (name: string, method: TransferMethod, startedAt = Date.now()): void {
    const info = this.paths.get(name)
    if (info === undefined) {
      this.paths.set(name, { name, method, state: { status: 'dialing', startedAt } })
    } else {
      // A re-dial: what the path's earlier channel carried still counts for it.
      if (info.state.status === 'down') this.earlierBytes.set(name, (this.earlierBytes.get(name) ?? 0) + info.state.channel.bytes)
      info.state = transition(info.state, { status: 'dialing', startedAt })
    }
    const attempt = (this.dials.get(name) ?? 0) + 1
    this.dials.set(name, attempt)
    this.safeDispatchEvent('path:dialing', { detail: { peerId: this.peerId, cid: this.cid, path: name, method, attempt } })
    this.reselect()
  }

  /** Path `name` is not dialled this time: `reason` says why (its last dials failed). */
  skipped (name: string, method: TransferMethod, reason: Error): void {
    const info = this.paths.get(name)
    const state = { status: 'skipped', startedAt: Date.now(), setupMs: 0, error: reason } as const
    if (info === undefined) this.paths.set(name, { name, method, state })
    else if (info.state.status !== 'up' && info.state.status !== 'dialing') info.state = state
  }

  /** Path `name` has a channel: attach it (paused until the selector says otherwise). */
  up (name: string, channel: Parameters<Transfer['attach']>[0]): AttachedChannel {
    const info = this.require(name)
    const setupMs = Date.now() - info.state.startedAt
    const attached = this.transfer.attach(channel, { label: `${name}:${this.peerId.slice(-8)}`, paused: true })
    info.state = transition(info.state, { status: 'up', startedAt: info.state.startedAt, setupMs, channel: attached })
    this.safeDispatchEvent('path:up', { detail: { peerId: this.peerId, cid: this.cid, path: name, method: info.method, setupMs } })
    this.reselect()
    return attached
  }

  /** The dial of path `name` failed. */
  failed (name: string, error: Error): void {
    const info = this.require(name)
    const setupMs = Date.now() - info.state.startedAt
    info.state = transition(info.state, { status: 'failed', startedAt: info.state.startedAt, setupMs, error })
    const message = describeError(error)
    this.lossLog.push({ path: name, method: info.method, kind: 'dial-failed', at: Date.now(), error: message })
    this.safeDispatchEvent('path:failed', { detail: { peerId: this.peerId, cid: this.cid, path: name, method: info.method, setupMs, error: message } })
    this.reselect()
  }

  /** Paths still being dialled. */
  get dialingCount (): number {
    return [...this.paths.values()].filter((p) => p.state.status === 'dialing').length
  }

  /** True while some path has an open channel. */
  get connected (): boolean {
    return [...this.paths.values()].some((p) => p.state.status === 'up' && p.state.channel.state !== 'closed')
  }

  /** Paths lost and dials failed, oldest first. */
  get losses (): readonly PathLoss[] {
    return this.lossLog
  }

  /** A channel of this peer closed with this error (a provider's fault, not the network's, if so classified). */
  get channelErrors (): Error[] {
    const out: Error[] = []
    for (const p of this.paths.values()) {
      if (p.state.status === 'down' && p.state.channel.error !== undefined) out.push(p.state.channel.error)
    }
    return out
  }

  /** The path carrying new requests. */
  get activePath (): string | undefined {
    return this.active
  }

  report (): PathReport[] {
    const all = [...this.paths.values()]
    const carried = (p: PathInfo): AttachedChannel | undefined => p.state.status === 'up' || p.state.status === 'down' ? p.state.channel : undefined
    const bytesOf = (p: PathInfo): number => (carried(p)?.bytes ?? 0) + (this.earlierBytes.get(p.name) ?? 0)
    const total = all.reduce((n, p) => n + bytesOf(p), 0)
    return all.map((p) => ({
      peerId: this.peerId,
      path: p.name,
      method: p.method,
      status: p.state.status,
      ...(p.state.status === 'dialing' ? {} : { setupMs: p.state.setupMs }),
      ...channelReport(carried(p), bytesOf(p), total),
      ...(carried(p)?.firstByteAt === undefined ? {} : { firstByteMs: carried(p)!.firstByteAt! - p.state.startedAt }),
      ...(carried(p) === undefined ? {} : { maxMessageSize: carried(p)!.maxMessageSize }),
      ...(this.roles.has(p.name) ? { role: this.roles.get(p.name)! } : {}),
      ...(p.state.status === 'failed' || p.state.status === 'skipped' ? { error: p.state.error.message } : {}),
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
        this.lose(info, channel, channel.error)
        return
      }
    }
  }

  /** The one way a path that was up goes down: logs the loss, tells listeners, reselects. */
  private lose (info: PathInfo, channel: AttachedChannel, error?: Error): void {
    if (info.state.status !== 'up') return
    const { startedAt, setupMs } = info.state
    if (this.transfer.finished) {
      // Closed because the fetch is over: not a loss.
      info.state = transition(info.state, { status: 'down', startedAt, setupMs, channel })
      return
    }
    info.state = transition(info.state, { status: 'down', startedAt, setupMs, channel, ...(error === undefined ? {} : { error }) })
    const message = error === undefined ? 'channel closed' : describeError(error)
    this.lossLog.push({ path: info.name, method: info.method, kind: 'lost', at: Date.now(), error: message })
    this.safeDispatchEvent('path:down', { detail: { peerId: this.peerId, cid: this.cid, path: info.name, method: info.method, setupMs, error: message } })
    this.reselect()
  }

  /**
   * Drops a path that owes chunks but has delivered nothing for
   * `stallTimeout` while another path is up, or for `deadTimeout` when it is
   * the only one.
   */
  private checkStalls (now = Date.now()): void {
    const up = [...this.paths.values()].filter((p) => p.state.status === 'up')
    for (const info of up) {
      if (info.state.status !== 'up') continue
      const channel = info.state.channel
      const seen = this.progress.get(channel.id)
      if (seen === undefined || seen.bytes !== channel.received || channel.inFlight === 0) {
        this.progress.set(channel.id, { bytes: channel.received, at: now })
        continue
      }
      const others = up.some((p) => p !== info && p.state.status === 'up' && p.state.channel.state !== 'closed')
      const silentMs = now - seen.at
      if (silentMs >= (others ? this.stallTimeout : this.deadTimeout)) {
        this.lose(info, channel, new Error(`${others ? 'stalled' : 'silent'}: no data for ${silentMs} ms with ${channel.inFlight} chunks in flight`))
        this.transfer.detach(channel)
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
          cid: this.cid,
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

function channelReport (channel: AttachedChannel | undefined, bytes: number, total: number): Pick<PathReport, 'bytes' | 'share' | 'goodput' | 'rttMs'> {
  if (channel === undefined && bytes === 0) return {}
  return {
    bytes,
    share: total > 0 ? Number((bytes / total).toFixed(3)) : 0,
    ...(channel?.goodput === undefined ? {} : { goodput: channel.goodput }),
    ...(channel?.rttMs === undefined ? {} : { rttMs: channel.rttMs })
  }
}

/** An error's message and its causes' (`Remote aborted: link cut`), as far as they say more. */
function describeError (err: Error): string {
  const parts: string[] = []
  for (let e: unknown = err; e instanceof Error && parts.length < 3; e = e.cause) {
    if (!parts.some((p) => p.includes(e.message))) parts.push((e as Error).message)
  }
  return parts.join(': ')
}
