// Platform-independent exports of @chiral/transport.

// Channels
export { libp2pStreamChannel, STREAM_MAX_MESSAGE_SIZE } from './channels/libp2p-stream.js'
export type { Libp2pStreamChannelInit } from './channels/libp2p-stream.js'
export { MessageQueue } from './channels/message-queue.js'
export type { MessageQueueInit } from './channels/message-queue.js'

// Errors
export {
  ChannelClosedError, ContentNotFoundError, ContentUnavailableError, PathDialError, PeerGoneError,
  ProviderMisbehavedError, TransferProtocolError
} from './errors.js'

// Paths
export { methodOfConnection } from './paths/connection-method.js'
export { circuitAddresses, relayDialer } from './paths/relay.js'
export type { RelayDialerInit } from './paths/relay.js'

// Protocol
export { TRANSFER_PROTOCOL, WIRE_ERROR_CODES } from './protocol/constants.js'
export type { WireErrorCode } from './protocol/constants.js'
export { decodeMessage } from './protocol/messages.js'
export type { TransferMessage } from './protocol/messages.js'

// Provider
export { blobSource, isContentSource } from './provider/content-source.js'
export type { ContentSource, ShareInput } from './provider/content-source.js'
export { Provider } from './provider/provider.js'
export type { ProviderComponents, ProviderEvents, ProviderInit, SessionEventDetail, ShareOptions } from './provider/provider.js'
export type { ChunkHook, ServeSessionStats } from './provider/serve-session.js'

// Receiver
export { ChunkScheduler } from './receiver/chunk-scheduler.js'
export type { ChunkState } from './receiver/chunk-scheduler.js'
export { Receiver } from './receiver/receiver.js'
export type { DefaultSink, FetchOptions, FetchResult, ReceiverComponents, ReceiverInit } from './receiver/receiver.js'
export { DEFAULT_WINDOW, Transfer } from './receiver/transfer.js'
export type {
  AttachedChannel, AttachOptions, PathRecord, TransferEvents, TransferInit, TransferProgress, TransferResult
} from './receiver/transfer.js'

// Sinks
export { blobSink } from './sinks/blob-sink.js'
export type { BlobSinkInit } from './sinks/blob-sink.js'
export { MAX_FILE_NAME_BYTES, sanitizeFileName } from './sinks/file-name.js'
export type { SinkOutput, TransferSink } from './sinks/sink.js'
