import { tierOf } from './path-state.js'
import type { PathInfo } from './path-state.js'
import type { AttachedChannel } from '../receiver/transfer.js'

export interface PathSelectorInit {
  /**
   * A primary (direct) path replaces the active primary only when its
   * measured rate is better by this fraction (default 0.3), so two similar
   * paths do not flip-flop.
   */
  switchThreshold?: number
  /**
   * Chunks a backup (relay) path may have in flight while a primary path is
   * still being dialled (default 1): the transfer starts at once on the relay
   * without filling it with chunks the direct path would carry.
   */
  backupWindowWhileDialing?: number
}

/** What the selector wants for each open channel. */
export interface ChannelPlan {
  channel: AttachedChannel
  paused: boolean
  /** Window to use; undefined keeps the transfer's default. */
  window?: number
}

export interface Selection {
  /** The path carrying new requests, if any is up. */
  active?: PathInfo
  plans: ChannelPlan[]
}

/**
 * Chooses which of one peer's open paths carries new chunk requests:
 *
 * - a primary (direct WebRTC) path beats a backup (relay) path as soon as it
 *   is up; the relay then only finishes its chunks in flight, so the switch
 *   happens at chunk boundaries;
 * - among primaries the current one stays unless another is better by
 *   `switchThreshold` (measured bytes per second since attach);
 * - when no primary is up the first backup carries everything, with a small
 *   window while a primary is still being dialled.
 */
export class PathSelector {
  private readonly threshold: number
  private readonly backupWindow: number

  constructor (init: PathSelectorInit = {}) {
    this.threshold = init.switchThreshold ?? 0.3
    this.backupWindow = Math.max(1, init.backupWindowWhileDialing ?? 1)
  }

  select (paths: PathInfo[], current: string | undefined, now = Date.now()): Selection {
    const up = paths.filter((p) => p.state.status === 'up')
    const primaries = up.filter((p) => tierOf(p.method) === 'primary')
    const backups = up.filter((p) => tierOf(p.method) === 'backup')
    const primaryDialing = paths.some((p) => p.state.status === 'dialing' && tierOf(p.method) === 'primary')

    let active: PathInfo | undefined
    if (primaries.length > 0) {
      const incumbent = primaries.find((p) => p.name === current)
      const best = primaries.reduce((a, b) => rate(b, now) > rate(a, now) ? b : a)
      active = incumbent !== undefined && rate(best, now) <= rate(incumbent, now) * (1 + this.threshold)
        ? incumbent
        : best
    } else {
      active = backups.find((p) => p.name === current) ?? backups[0]
    }

    const plans: ChannelPlan[] = up.map((p) => {
      const channel = (p.state as Extract<PathInfo['state'], { status: 'up' }>).channel
      const isActive = p === active
      const plan: ChannelPlan = { channel, paused: !isActive }
      if (isActive && tierOf(p.method) === 'backup' && primaryDialing) plan.window = this.backupWindow
      return plan
    })
    return { ...(active === undefined ? {} : { active }), plans }
  }
}

/** Bytes per second a path carried since it came up (0 before any bytes). */
function rate (p: PathInfo, now: number): number {
  if (p.state.status !== 'up') return 0
  const seconds = Math.max(0.001, (now - p.state.channel.attachedAt) / 1000)
  return p.state.channel.bytes / seconds
}
