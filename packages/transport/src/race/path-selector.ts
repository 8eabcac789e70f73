import { tierOf } from './path-state.js'
import type { PathInfo } from './path-state.js'
import type { AttachedChannel } from '../receiver/transfer.js'

/** How much of a fetch an app lets the relay carry (relay bandwidth costs its operator). */
export interface RelayUse {
  /**
   * `share` (default): the relay carries chunks alongside direct paths, in
   * proportion to what it measures. `stop`: once a direct path is up and not
   * demoted, the relay gets no new chunks (it finishes those in flight, and
   * takes over again if every direct path goes).
   */
  whenDirectUp?: 'share' | 'stop'
  /**
   * Largest fraction (0–1) of the fetched bytes the relay may carry while a
   * direct path is up; it carries everything when none is.
   */
  maxShare?: number
}

export interface PathSelectorInit {
  /**
   * The leading path (the one reported by `path:switch`) changes only when
   * another carries this fraction more (default 0.3), so two similar paths
   * do not flip-flop in the report.
   */
  switchThreshold?: number
  /**
   * A path whose goodput falls below this fraction of the best path's stops
   * getting new chunks (default 0.15): it is demoted, not dropped, and probed
   * again later. Measured in the WAN lab: paths within a few × of each other
   * add up (relay + direct at 40 and 100 ms RTT). Raising it to 0.5 did not
   * help the one case where multipath loses, a CPU-bound 2-core LAN (three
   * paths at once 0.5–0.6× the fastest alone either way: there the paths
   * slow each other down, and a late path measures low).
   */
  demoteBelow?: number
  /** A demoted path whose probe shows at least this fraction of the best goodput carries again (default 0.25). */
  promoteAbove?: number
  /** First wait before a demoted path is probed again, ms (default 4 s; doubles up to 30 s while it stays slow). */
  probeInterval?: number
  /** Chunks a probe (or a path not yet measured, beside a measured one) may have in flight (default 4). */
  probeWindow?: number
  /**
   * Slack added to twice the round trip when sizing a window, ms (default 50):
   * a path's window is goodput × (2 × RTT + this), plus one chunk. Twice the
   * RTT lets a window-limited path show more than it carries now, so its window
   * grows to what the link holds; small enough that a slow path does not sit
   * on many chunks.
   */
  queueTarget?: number
  /** Largest window of any path, chunks (default 32). */
  maxWindow?: number
  /** The app's limit on relay use (default: share by measurement). */
  relayUse?: RelayUse
}

/** What the selector wants for each open channel. */
export interface ChannelPlan {
  /** The path's name. */
  path: string
  channel: AttachedChannel
  paused: boolean
  /** Window to use; undefined keeps the transfer's default. */
  window?: number
  /** Why this plan (for logs and reports). */
  role: PathRole
}

/** Where a path stands with the selector. */
export type PathRole = 'carrying' | 'unmeasured' | 'probing' | 'demoted' | 'held-by-policy'

export interface Selection {
  /** The path carrying the most now (the one a UI shows), if any is up. */
  active?: PathInfo
  plans: ChannelPlan[]
}

/** What the selector needs to know about the transfer. */
export interface SelectionContext {
  /** Bytes per chunk (window sizes are in chunks). */
  chunkBytes: number
  /** The transfer's default window, chunks. */
  defaultWindow: number
  now?: number
}

/**
 * Per-path memory of demotion:
 *
 * ```
 *   carrying ──goodput < demoteBelow × best──► demoted ──probe due──► probing
 *      ▲                                          ▲                      │
 *      └──────── probe ≥ promoteAbove × best ─────┼──────────────────────┤
 *                                                 └── probe still slow ──┘ (wait doubles)
 * ```
 */
type Demotion =
  | { role: 'carrying' }
  | { role: 'demoted', probeAt: number, wait: number }
  | { role: 'probing', untilChunks: number, wait: number }

/**
 * Chooses, from what each path measures, how many chunks each of one peer's
 * open paths may have in flight:
 *
 * - every path that is up carries chunks, so relay and direct paths add up;
 *   each pulls new chunks as it delivers, so shares follow measured goodput;
 * - a window is sized from the path's own goodput and RTT (the best path
 *   never below the transfer's default), so a slow path does not hoard chunks;
 * - a path far slower than the best is demoted (no new chunks), probed with a
 *   few chunks later, and carries again when it has recovered;
 * - the app's relay use (`relayUse`) can hold the relay back while a direct
 *   path is up.
 *
 * The transfer's end game (`receiver/end-game.ts`) covers the last chunks a
 * slow path still holds.
 */
export class PathSelector {
  private readonly threshold: number
  private readonly demoteBelow: number
  private readonly promoteAbove: number
  private readonly probeInterval: number
  private readonly probeWindow: number
  private readonly queueTarget: number
  private readonly maxWindow: number
  private readonly relayUse: RelayUse
  private readonly demotion = new Map<string, Demotion>()

  constructor (init: PathSelectorInit = {}) {
    this.threshold = init.switchThreshold ?? 0.3
    this.demoteBelow = init.demoteBelow ?? 0.15
    this.promoteAbove = Math.max(this.demoteBelow, init.promoteAbove ?? 0.25)
    this.probeInterval = init.probeInterval ?? 4000
    this.probeWindow = Math.max(1, init.probeWindow ?? 4)
    this.queueTarget = init.queueTarget ?? 50
    this.maxWindow = Math.max(1, init.maxWindow ?? 32)
    this.relayUse = init.relayUse ?? {}
  }

  select (paths: PathInfo[], current: string | undefined, context: SelectionContext): Selection {
    const now = context.now ?? Date.now()
    const up = paths.filter((p): p is PathInfo & { state: { status: 'up' } } => p.state.status === 'up' && p.state.channel.state !== 'closed')
    for (const name of this.demotion.keys()) if (!up.some((p) => p.name === name)) this.demotion.delete(name)
    if (up.length === 0) return { plans: [] }

    const goodput = (p: PathInfo): number | undefined => p.state.status === 'up' ? p.state.channel.goodput : undefined
    const measured = up.filter((p) => goodput(p) !== undefined)
    const best = measured.reduce<PathInfo | undefined>((a, b) => a === undefined || (goodput(b) ?? 0) > (goodput(a) ?? 0) ? b : a, undefined)
    const bestRate = best === undefined ? 0 : goodput(best) ?? 0

    const roles = new Map<string, PathRole>()
    for (const p of up) roles.set(p.name, this.roleOf(p, p === best, bestRate, now))

    const directCarrying = up.some((p) => tierOf(p.method) === 'primary' && roles.get(p.name) !== 'demoted')
    if (directCarrying) {
      const relayBytes = up.filter((p) => p.method === 'relay').reduce((n, p) => n + p.state.channel.bytes, 0)
      const allBytes = up.reduce((n, p) => n + p.state.channel.bytes, 0)
      const overShare = this.relayUse.maxShare !== undefined && allBytes > 0 && relayBytes / allBytes >= this.relayUse.maxShare
      if (this.relayUse.whenDirectUp === 'stop' || overShare || this.relayUse.maxShare === 0) {
        for (const p of up) if (p.method === 'relay') roles.set(p.name, 'held-by-policy')
      }
    }
    // Never leave a peer with nothing carrying: the best demoted or held path carries.
    if (![...roles.values()].some((r) => r === 'carrying' || r === 'unmeasured' || r === 'probing')) {
      roles.set((best ?? up[0]!).name, 'carrying')
    }

    const plans: ChannelPlan[] = up.map((p) => {
      const channel = p.state.channel
      const role = roles.get(p.name)!
      if (role === 'demoted' || role === 'held-by-policy') return { path: p.name, channel, paused: true, role }
      const alone = up.length === 1 || measured.length === 0
      if (role === 'probing' || (role === 'unmeasured' && !alone)) return { path: p.name, channel, paused: false, window: this.probeWindow, role }
      return { path: p.name, channel, paused: false, window: this.windowOf(channel, p === best || alone, context), role }
    })

    return { ...withActive(this.leader(up, roles, current, goodput)), plans }
  }

  /** Goodput × (2 × RTT + slack) in chunks, plus one; the best path never below the default. */
  private windowOf (channel: AttachedChannel, isBest: boolean, context: SelectionContext): number {
    const rate = channel.goodput
    if (rate === undefined) return context.defaultWindow
    const seconds = (2 * (channel.rttMs ?? 0) + this.queueTarget) / 1000
    const fits = Math.ceil(rate * seconds / Math.max(1, context.chunkBytes)) + 1
    return Math.min(this.maxWindow, Math.max(isBest ? context.defaultWindow : 1, fits))
  }

  private roleOf (p: PathInfo, isBest: boolean, bestRate: number, now: number): PathRole {
    const channel = (p.state as { channel: AttachedChannel }).channel
    const rate = channel.goodput
    let d = this.demotion.get(p.name) ?? { role: 'carrying' as const }
    if (isBest || rate === undefined || bestRate <= 0) {
      if (isBest) d = { role: 'carrying' }
      this.demotion.set(p.name, d)
      if (rate === undefined && d.role === 'carrying') return 'unmeasured'
      return d.role === 'probing' ? 'probing' : d.role
    }
    const ratio = rate / bestRate
    switch (d.role) {
      case 'carrying':
        if (ratio < this.demoteBelow) d = { role: 'demoted', probeAt: now + this.probeInterval, wait: this.probeInterval }
        break
      case 'demoted':
        if (ratio >= this.promoteAbove) d = { role: 'carrying' }
        else if (now >= d.probeAt) d = { role: 'probing', untilChunks: channel.chunks + channel.duplicateChunks + this.probeWindow, wait: d.wait }
        break
      case 'probing':
        if (channel.chunks + channel.duplicateChunks >= d.untilChunks) {
          d = ratio >= this.promoteAbove
            ? { role: 'carrying' }
            : { role: 'demoted', probeAt: now + Math.min(30_000, d.wait * 2), wait: Math.min(30_000, d.wait * 2) }
        }
        break
    }
    this.demotion.set(p.name, d)
    return d.role
  }

  /** The path carrying most; the current one stays unless another is better by the threshold. */
  private leader (up: PathInfo[], roles: Map<string, PathRole>, current: string | undefined, goodput: (p: PathInfo) => number | undefined): PathInfo | undefined {
    const carrying = up.filter((p) => roles.get(p.name) !== 'demoted' && roles.get(p.name) !== 'held-by-policy')
    const incumbent = carrying.find((p) => p.name === current)
    const rated = carrying.filter((p) => goodput(p) !== undefined)
    if (rated.length === 0) return incumbent ?? carrying[0]
    const top = rated.reduce((a, b) => (goodput(b) ?? 0) > (goodput(a) ?? 0) ? b : a)
    if (incumbent === undefined) return top
    const incumbentRate = goodput(incumbent)
    if (incumbentRate === undefined) return incumbent
    return (goodput(top) ?? 0) > incumbentRate * (1 + this.threshold) ? top : incumbent
  }
}

function withActive (active: PathInfo | undefined): { active?: PathInfo } {
  return active === undefined ? {} : { active }
}
