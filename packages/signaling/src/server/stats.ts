import { SIGNALING_ERROR_CODES } from '../errors.js'
import type { SignalingErrorCode } from '../errors.js'

/** Plain counters of a signaling server, for a metrics endpoint. */
export interface SignalingServerStats {
  /** Open WebSocket connections (registered or not). */
  clients: number
  /** Connections that completed registration. */
  registered: number
  /** Rooms with at least one member. */
  rooms: number
  /** Connections accepted since start. */
  connectionsTotal: number
  /** Frames received from clients. */
  messagesReceived: number
  /** offer/answer/candidate frames delivered to their target. */
  messagesRouted: number
  /** Error frames sent, by code (also counts refused connections for `server-full`). */
  errors: Record<SignalingErrorCode, number>
  /** Connections dropped by the heartbeat. */
  heartbeatTimeouts: number
  /** Connections closed because their own send buffer overflowed. */
  slowClientsDropped: number
}

export function emptyStats (): SignalingServerStats {
  const errors = Object.fromEntries(SIGNALING_ERROR_CODES.map((c) => [c, 0])) as Record<SignalingErrorCode, number>
  return {
    clients: 0,
    registered: 0,
    rooms: 0,
    connectionsTotal: 0,
    messagesReceived: 0,
    messagesRouted: 0,
    errors,
    heartbeatTimeouts: 0,
    slowClientsDropped: 0
  }
}
