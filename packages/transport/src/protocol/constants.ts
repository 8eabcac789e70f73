/** The transfer protocol id (libp2p protocol name; also the DataChannel label prefix). */
export const TRANSFER_PROTOCOL = '/chiral/transfer/1.0.0'

/** Message types (first byte of every message). See PROTOCOL.md. */
export const MessageType = {
  /** receiver → provider: open a session for a content id. */
  Open: 0x01,
  /** receiver → provider: send these chunks. */
  Request: 0x02,
  /** provider → receiver: a piece of the encoded manifest. */
  Manifest: 0x81,
  /** provider → receiver: a piece of a chunk. */
  Chunk: 0x82,
  /** provider → receiver: session open, manifest not requested. */
  Ready: 0x83,
  /** provider → receiver: a request failed. */
  Error: 0xe0
} as const

/** `Open` flag: the provider must send the manifest. */
export const OPEN_WANT_MANIFEST = 0x01

/** Bytes before the payload of a `Manifest` or `Chunk` message: type, u32, u32. */
export const PIECE_HEADER_LENGTH = 9

/** `Error.index` value for errors about the whole session rather than one chunk. */
export const SESSION_ERROR_INDEX = 0xffffffff

/**
 * Most chunk indexes one `Request` may carry. A larger `Request` is a protocol
 * error: the provider answers `bad-request` for the session and closes it.
 */
export const MAX_REQUEST_INDEXES = 64

/** Smallest max message size a channel may have to carry the protocol. */
export const MIN_MESSAGE_SIZE = 1024

/** Error codes a provider sends in `Error` messages. */
export const WIRE_ERROR_CODES = [
  'content-not-found',
  'content-unavailable',
  'bad-request',
  'too-many-sessions',
  'internal'
] as const

export type WireErrorCode = typeof WIRE_ERROR_CODES[number]
