import { ChiralError } from '@chiral/core'

/**
 * Errors of @chiral/transport. Each has a stable kebab-case `code`; compare by
 * `code` (see `isChiralError` in @chiral/core), never with `instanceof`.
 */

/** The provider does not have the requested content id. */
export class ContentNotFoundError extends ChiralError {
  static override readonly code = 'content-not-found'
}

/**
 * A provider kept sending data that does not match the manifest (or broke
 * the protocol) and was dropped. No final file is written.
 */
export class ProviderMisbehavedError extends ChiralError {
  static override readonly code = 'provider-misbehaved'
}

/** Every channel to the provider(s) closed before the transfer finished. */
export class PeerGoneError extends ChiralError {
  static override readonly code = 'peer-gone'
}

/** A message on a channel does not follow /chiral/transfer/1.0.0 or the channel framing. */
export class TransferProtocolError extends ChiralError {
  static override readonly code = 'transfer-protocol-error'
}

/**
 * A message channel is closed: nothing more can be sent on it (libp2p stream
 * and DataChannel channels alike; a DataChannel whose remote vanished before
 * finishing fails its reads with it too).
 */
export class ChannelClosedError extends ChiralError {
  static override readonly code = 'channel-closed'
  constructor (message = 'The channel is closed', options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A path dialer could not open a channel to a peer. */
export class PathDialError extends ChiralError {
  static override readonly code = 'path-dial-failed'
}

/**
 * The dcutr path: no direct TCP connection to the peer came up (the hole
 * punch failed or never started, the peer or this node has no DCUtR, or the
 * time limit passed).
 */
export class NoDirectConnectionError extends ChiralError {
  static override readonly code = 'no-direct-connection'
}

/** The provider could not read the content it announced (file changed, moved or unreadable). */
export class ContentUnavailableError extends ChiralError {
  static override readonly code = 'content-unavailable'
}

/**
 * Every path to a provider went down in the middle of a fetch and none came
 * back within the retry budget. The message names each path, how it died
 * and when, and what the re-dials answered: usually the network moved or
 * the relay went away, not the provider's fault.
 */
export class PathsLostError extends ChiralError {
  static override readonly code = 'paths-lost'
}

/**
 * The browser's storage for this site has no room for the file (its quota,
 * or the device's disk, is full). The part already written stays and a later
 * fetch resumes from it once space is freed.
 */
export class StorageQuotaError extends ChiralError {
  static override readonly code = 'storage-quota-exceeded'
}

/**
 * The browser's file storage cannot be used here (no origin private file
 * system, e.g. outside a secure context or in some private windows; no
 * worker; the file is open in another tab). The default browser sink then
 * keeps the file in memory instead.
 */
export class StorageUnavailableError extends ChiralError {
  static override readonly code = 'storage-unavailable'
}

/**
 * The manifest announces a file larger than the receiver accepts
 * (`maxFileSize`). Nothing is written: the fetch is refused before the sink
 * opens, so no `.part` is created.
 */
export class FileTooLargeError extends ChiralError {
  static override readonly code = 'file-too-large'
}

/**
 * The destination has less free space than the file still needs. Refused
 * before the sink creates its file; the message gives both sizes.
 */
export class InsufficientSpaceError extends ChiralError {
  static override readonly code = 'insufficient-space'
}

/**
 * A provider went silent, or delivered far slower than its channel had
 * shown it can, while it owed the manifest or a chunk; its channel was
 * dropped and what it owed went to other channels. Not a fault of the
 * content: the path may simply have died, so the provider is dialled again
 * within the retry budget.
 */
export class ProviderStalledError extends ChiralError {
  static override readonly code = 'provider-stalled'
}
