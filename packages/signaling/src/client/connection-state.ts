import type { WebSocketLike } from './websocket-like.js'

/**
 * The lifecycle of a WebSocket signaling client:
 *
 *             start()
 *     idle ───────────▶ connecting ──registered──▶ open
 *                         ▲    │                    │
 *                 timer   │    │ closed / refused / │ closed / silent
 *                         │    ▼                    │
 *                       backing-off ◀───────────────┘
 *
 *     any state ──stop()──▶ stopped ──start()──▶ connecting
 */
export type ConnectionState =
  | { status: 'idle' }
  | { status: 'connecting', socket: WebSocketLike, attempt: number, since: number }
  | { status: 'open', socket: WebSocketLike }
  | { status: 'backing-off', attempt: number, delay: number, timer: ReturnType<typeof setTimeout> }
  | { status: 'stopped' }

export type ConnectionStatus = ConnectionState['status']

const ALLOWED: Record<ConnectionStatus, readonly ConnectionStatus[]> = {
  idle: ['connecting', 'stopped'],
  connecting: ['open', 'backing-off', 'stopped'],
  open: ['backing-off', 'stopped'],
  'backing-off': ['connecting', 'stopped'],
  stopped: ['connecting', 'stopped']
}

/** True when the lifecycle allows going from `from` to `to`. */
export function canTransition (from: ConnectionStatus, to: ConnectionStatus): boolean {
  return ALLOWED[from].includes(to)
}
