/**
 * A peer's lifecycle, one transition function:
 *
 *   idle ──start──► starting ──► running ──stop──► stopping ──► stopped
 *                      └── cannot start ──► failed ──stop──► stopped
 *   stopped ──start──► starting (a stopped peer starts again)
 */
export type PeerState =
  | { status: 'idle' }
  | { status: 'starting', step: string }
  | { status: 'running', since: number }
  | { status: 'failed', error: Error }
  | { status: 'stopping' }
  | { status: 'stopped' }

const NEXT: Record<PeerState['status'], ReadonlyArray<PeerState['status']>> = {
  idle: ['starting', 'stopped'],
  starting: ['starting', 'running', 'failed', 'stopping'],
  running: ['stopping'],
  failed: ['stopping', 'stopped'],
  stopping: ['stopped'],
  stopped: ['starting', 'stopped']
}

/** The state after `next`; throws on a move the lifecycle does not have (a bug, not bad input). */
export function transition (state: PeerState, next: PeerState): PeerState {
  if (!NEXT[state.status].includes(next.status)) throw new Error(`A peer cannot go from ${state.status} to ${next.status}`)
  return next
}
