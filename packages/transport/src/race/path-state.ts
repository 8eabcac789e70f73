import type { AttachedChannel } from '../receiver/transfer.js'
import type { TransferMethod } from '@chiral/core'

/**
 * One path to one peer during a fetch.
 *
 * ```
 *   dialing ──channel ready──► up ──channel closed / detached / silent──► down
 *      ▲  │                                                               │
 *      │  └──dial failed / timed out / aborted──► failed                  │
 *      └───────────── re-dial (recovery, or a retry after backoff) ───────┘
 *   skipped: not dialled, its last dials failed and its backoff has not run out (re-dialable)
 * ```
 */
export type PathState =
  | { status: 'dialing', startedAt: number }
  | { status: 'up', startedAt: number, setupMs: number, channel: AttachedChannel }
  | { status: 'failed', startedAt: number, setupMs: number, error: Error }
  | { status: 'down', startedAt: number, setupMs: number, channel: AttachedChannel, error?: Error }
  | { status: 'skipped', startedAt: number, setupMs: 0, error: Error }

export type PathStatus = PathState['status']

/** What the peer's paths look like to a selector or a report. */
export interface PathInfo {
  /** Dialer name: `relay`, `webrtc`, `libp2p-webrtc`, … */
  name: string
  method: TransferMethod
  state: PathState
}

const NEXT: Record<PathStatus, readonly PathStatus[]> = {
  dialing: ['up', 'failed'],
  up: ['down'],
  failed: ['dialing'],
  down: ['dialing'],
  skipped: ['dialing']
}

/** The one transition function: returns the next state or throws on an impossible move. */
export function transition (from: PathState, to: PathState): PathState {
  if (!NEXT[from.status].includes(to.status)) {
    throw new Error(`path state: illegal transition ${from.status} → ${to.status}`)
  }
  return to
}

/** Tier of a method: direct paths are preferred, relays are the backup. */
export type PathTier = 'primary' | 'backup'

export function tierOf (method: TransferMethod): PathTier {
  return method === 'relay' ? 'backup' : 'primary'
}
