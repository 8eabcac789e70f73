/**
 * Errors shared by every Chiral package.
 *
 * Each error has a stable `code` (kebab-case, also used on the wire) and a
 * `name` equal to its class name. Compare by `code` (`isChiralError(err,
 * code)`), never with `instanceof` (two copies of a package in node_modules
 * break it) and not by `name` in browsers (minifiers rename classes).
 * A subclass only declares `static override readonly code = '…'`.
 */
export class ChiralError extends Error {
  /** The stable code; each subclass sets its own, and instances copy it. */
  static readonly code: string = 'chiral-error'
  readonly code: string

  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = (new.target as typeof ChiralError).code
  }
}

/** The input is not a Chiral content id (CIDv1, dag-cbor, sha2-256). */
export class InvalidContentIdError extends ChiralError {
  static override readonly code = 'invalid-content-id'
}

/** A manifest is malformed or does not hash to the content id it claims. */
export class InvalidManifestError extends ChiralError {
  static override readonly code = 'invalid-manifest'
}

/** An argument is out of range or of the wrong kind. */
export class InvalidArgumentError extends ChiralError {
  static override readonly code = 'invalid-argument'
}

/** No provider of a content id was found before the caller's time limit or the end of the query. */
export class NoProvidersError extends ChiralError {
  static override readonly code = 'no-providers'
}

/** The operation was cancelled through its AbortSignal. */
export class AbortError extends ChiralError {
  static override readonly code = 'aborted'
  constructor (message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** An object was used before `start()` or after `stop()`. */
export class NotStartedError extends ChiralError {
  static override readonly code = 'not-started'
  constructor (message = 'Not started', options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * Every relay the node reserves on answered its reservation request with a
 * refusal (no free slot, too many from the node's address, …), so nobody
 * can reach the node through them. `refusals` names each relay and its answer.
 */
export class ReservationRefusedError extends ChiralError {
  static override readonly code = 'reservation-refused'
  readonly refusals: Array<{ relay: string, status: string }>
  constructor (message: string, refusals: Array<{ relay: string, status: string }>, options?: { cause?: unknown }) {
    super(message, options)
    this.refusals = refusals
  }
}

/** True when `err` is a ChiralError (or a copy of one) with the given code. */
export function isChiralError (err: unknown, code?: string): err is ChiralError {
  if (err == null || typeof err !== 'object') return false
  const c = (err as { code?: unknown }).code
  return typeof c === 'string' && (code === undefined || c === code)
}

/** Throws an AbortError when the signal has been aborted. */
export function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new AbortError(undefined, { cause: signal.reason })
  }
}
