import type { WebSocketLike } from './websocket-like.js'

/**
 * The lifecycle of a WebSocket signaling client:
 *
 *             start()
 *     idle ───────────▶ connecting ──registered──▶ open
 *                         ▲    │                    │
 *                 timer   │    │ failed,            │ failed,
 *                         │    ▼ round over         │ round over
 *                       backing-off ◀───────────────┘
 *
 *     connecting / open ──failed, a URL left in the round──▶ connecting (the next URL, at once)
 *     any state ──stop()──▶ stopped ──start()──▶ connecting
 *
 * "Failed": closed, refused, silent, or not registered in time. With one URL
 * every failure backs off; with several, a round over all of them comes
 * first (see `UrlRotation`). `url` is the server being tried or registered
 * on; while backing off, the one tried next.
 */
export type ConnectionState =
  | { status: 'idle' }
  | { status: 'connecting', socket: WebSocketLike, url: string, attempt: number, since: number }
  | { status: 'open', socket: WebSocketLike, url: string }
  | { status: 'backing-off', url: string, attempt: number, delay: number, timer: ReturnType<typeof setTimeout> }
  | { status: 'stopped' }

export type ConnectionStatus = ConnectionState['status']

const ALLOWED: Record<ConnectionStatus, readonly ConnectionStatus[]> = {
  idle: ['connecting', 'stopped'],
  connecting: ['connecting', 'open', 'backing-off', 'stopped'],
  open: ['connecting', 'backing-off', 'stopped'],
  'backing-off': ['connecting', 'stopped'],
  stopped: ['connecting', 'stopped']
}

/** True when the lifecycle allows going from `from` to `to`. */
export function canTransition (from: ConnectionStatus, to: ConnectionStatus): boolean {
  return ALLOWED[from].includes(to)
}
