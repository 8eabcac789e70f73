import { ChiralError } from '@chiral/core'

/**
 * Error codes a signaling server sends in `{"type":"error","code":C}` frames.
 * Stable: clients and metrics key on them.
 */
export const SIGNALING_ERROR_CODES = [
  'bad-message',
  'not-registered',
  'unknown-peer',
  'id-taken',
  'auth-failed',
  'rate-limited',
  'too-large',
  'buffer-full',
  'server-full'
] as const

export type SignalingErrorCode = typeof SIGNALING_ERROR_CODES[number]

/** The server answered with an error frame (the code is the wire code). */
export class SignalingServerError extends ChiralError {
  static override readonly code = 'signaling-server-error'
  /** The wire error code, e.g. `unknown-peer`. */
  readonly wireCode: SignalingErrorCode
  constructor (wireCode: SignalingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.wireCode = wireCode
  }
}

/** A message could not be sent: the backend is stopped or not connected. */
export class SignalingUnavailableError extends ChiralError {
  static override readonly code = 'signaling-unavailable'
}

/** The bounded outgoing queue of a disconnected client is full. */
export class SignalingQueueFullError extends ChiralError {
  static override readonly code = 'signaling-queue-full'
  constructor (message = 'The outgoing signaling queue is full', options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** The remote peer refused or could not take a message sent over libp2p. */
export class SignalingRejectedError extends ChiralError {
  static override readonly code = 'signaling-rejected'
}

/** Every route of a hybrid client failed; `errors` holds each route's failure. */
export class SignalingRoutesExhaustedError extends ChiralError {
  static override readonly code = 'signaling-routes-exhausted'
  readonly errors: Error[]
  constructor (message: string, errors: Error[]) {
    super(message, { cause: errors[errors.length - 1] })
    this.errors = errors
  }
}

/** The cluster backend (Redis) cannot be reached; the server keeps routing locally. */
export class SignalingClusterUnavailableError extends ChiralError {
  static override readonly code = 'signaling-cluster-unavailable'
}

/** The cluster backend answered something this version does not understand. */
export class SignalingClusterReplyError extends ChiralError {
  static override readonly code = 'signaling-cluster-bad-reply'
}
