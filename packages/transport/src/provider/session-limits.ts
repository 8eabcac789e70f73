/**
 * What one provider session (and one remote peer) may hold of the provider's
 * memory and time. See "Provider limits" in PROTOCOL.md.
 */
export interface SessionLimits {
  /**
   * Chunks (and `Open` answers) a session may have requested and not yet
   * sent (default 64: the receiver's window is 8, a path selector's at most
   * 32). Going over is a protocol error: `bad-request`, session closed.
   */
  maxOutstanding: number
  /** A session with nothing queued or being sent and no message for this long is closed, ms (default 30 s). */
  idleTimeout: number
  /** One message that cannot be handed to the channel for this long ends the session, ms (default 120 s). */
  sendTimeout: number
}

export const DEFAULT_MAX_OUTSTANDING = 64
export const DEFAULT_IDLE_TIMEOUT = 30_000
export const DEFAULT_SEND_TIMEOUT = 120_000
/** Concurrent sessions of one remote peer, across its connections and paths. */
export const DEFAULT_MAX_SESSIONS_PER_PEER = 8

/**
 * Inbound side of a provider's libp2p stream channels: a provider only
 * receives `Open` (a content id) and `Request` (≤ 64 indexes, 257 bytes), so
 * any message above 4 KiB is abuse and resets the stream at its length
 * prefix; at most 64 KiB wait unread before the stream is paused and 1 MiB
 * before it is reset.
 */
export const PROVIDER_INBOUND = {
  maxInboundMessageSize: 4 * 1024,
  highWaterMark: 64 * 1024,
  maxReadBufferLength: 1024 * 1024
} as const

export function resolveSessionLimits (init: Partial<SessionLimits> = {}): SessionLimits {
  return {
    maxOutstanding: Math.max(1, init.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING),
    idleTimeout: init.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    sendTimeout: init.sendTimeout ?? DEFAULT_SEND_TIMEOUT
  }
}
