import { ChiralError } from '@chiral/core'

/**
 * A WebRTC connection attempt did not reach an open DataChannel: ICE failed,
 * or nothing connected within the configured time. `reason` tells which.
 */
export class IceFailedError extends ChiralError {
  static override readonly code = 'ice-failed'
  readonly reason: 'failed' | 'timeout' | 'closed'

  constructor (message: string, reason: 'failed' | 'timeout' | 'closed', options?: { cause?: unknown }) {
    super(message, options)
    this.reason = reason
  }
}

/** An established peer connection went to `failed` while in use. */
export class PeerConnectionLostError extends ChiralError {
  static override readonly code = 'connection-lost'
  constructor (message = 'The peer connection was lost', options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** The remote peer does not serve the requested protocol. */
export class ProtocolNotServedError extends ChiralError {
  static override readonly code = 'protocol-not-served'
}
