// Platform-independent exports of @chiral/transport.

// Channels
export {
  DataChannelMessageChannel, createDataChannelMessageChannel, negotiatedMaxMessageSize,
  MAX_DATA_CHANNEL_MESSAGE_SIZE, DEFAULT_DATA_CHANNEL_MESSAGE_SIZE, DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK
} from './channels/data-channel.js'
export type { DataChannelMessageChannelInit, ChannelEnd } from './channels/data-channel.js'
export { libp2pStreamChannel, STREAM_MAX_MESSAGE_SIZE } from './channels/libp2p-stream.js'
export type { Libp2pStreamChannelInit } from './channels/libp2p-stream.js'
export { MessageQueue } from './channels/message-queue.js'
export type { MessageQueueInit } from './channels/message-queue.js'

// Errors
export {
  ChannelClosedError, ContentNotFoundError, ContentUnavailableError, NoDirectConnectionError, PathDialError, PathsLostError, PeerGoneError,
  ProviderMisbehavedError, StorageQuotaError, StorageUnavailableError, TransferProtocolError,
  FileTooLargeError, InsufficientSpaceError, ProviderStalledError
} from './errors.js'
export { BROWSER_MAX_FILE_SIZE, NODE_MAX_FILE_SIZE } from './receiver/size-limit.js'
export type { StallInit } from './receiver/stall-watch.js'

// Paths
export { methodOfConnection } from './paths/connection-method.js'
export { circuitAddresses, relayDialer } from './paths/relay.js'
export type { RelayDialerInit } from './paths/relay.js'
export { libp2pWebRTCDialer, webRTCCircuitAddresses } from './paths/libp2p-webrtc.js'
export type { Libp2pWebRTCDialerInit } from './paths/libp2p-webrtc.js'
export { dcutrDialer } from './paths/dcutr.js'
export type { DcutrDialerInit, DcutrDialerNode } from './paths/dcutr.js'
export { WebRTCPathDialer, createWebRTCPathDialer, DEFAULT_CONNECT_TIMEOUT } from './paths/webrtc.js'
export type { WebRTCComponents, WebRTCInit } from './paths/webrtc.js'
export { WebRTCListener, createWebRTCListener } from './paths/webrtc-listener.js'
export type {
  WebRTCListenerInit, WebRTCListenerEvents, WebRTCChannelInfo, WebRTCChannelHandler, WebRTCOfferDetail, WebRTCSessionErrorDetail
} from './paths/webrtc-listener.js'

// Protocol
export { TRANSFER_PROTOCOL, WIRE_ERROR_CODES } from './protocol/constants.js'
export type { WireErrorCode } from './protocol/constants.js'
export { decodeMessage } from './protocol/messages.js'
export type { TransferMessage } from './protocol/messages.js'

// Provider
export { blobSource, isContentSource } from './provider/content-source.js'
export type { ContentSource, ShareInput } from './provider/content-source.js'
export { Provider } from './provider/provider.js'
export type { ProviderComponents, ProviderEvents, ProviderInit, ServeOptions, SessionEventDetail, ShareOptions } from './provider/provider.js'
export type { ChunkHook, ServeSessionStats } from './provider/serve-session.js'

// Race
export { PathRace } from './race/race.js'
export type { PathRaceComponents, PathRaceEvents, PathRaceInit, RunOptions } from './race/race.js'
export { RemotePeer, PathBackoff } from './race/remote-peer.js'
export type { PathMemory, RemotePeerInit } from './race/remote-peer.js'
export { PathSelector } from './race/path-selector.js'
export type { ChannelPlan, PathRole, PathSelectorInit, RelayUse, Selection, SelectionContext } from './race/path-selector.js'
export { PeerPaths } from './race/peer-paths.js'
export type {
  PathDialingDetail, PathDownDetail, PathEventDetail, PathFailedDetail, PathReport, PathLoss, PathSwitchDetail, PeerPathsEvents, PeerPathsInit
} from './race/peer-paths.js'
export { tierOf, transition as transitionPath } from './race/path-state.js'
export type { PathInfo, PathState, PathStatus, PathTier } from './race/path-state.js'

// Receiver
export { ChunkScheduler } from './receiver/chunk-scheduler.js'
export type { ChunkState } from './receiver/chunk-scheduler.js'
export { Receiver } from './receiver/receiver.js'
export type { DefaultSink, FetchOptions, FetchResult, ReceiverComponents, ReceiverInit } from './receiver/receiver.js'
export { ProviderLink } from './receiver/provider-link.js'
export type { ProviderLinkHooks, ReconnectingDetail, Recovery, RecoveryInit } from './receiver/provider-link.js'
export { DEFAULT_WINDOW, Transfer } from './receiver/transfer.js'
export type {
  AttachedChannel, AttachOptions, PathRecord, TransferEvents, TransferInit, TransferProgress, TransferResult
} from './receiver/transfer.js'

// WebRTC
export { IceFailedError, PeerConnectionLostError, ProtocolNotServedError } from './webrtc/errors.js'
export { DEFAULT_ICE_SERVERS } from './webrtc/ice-servers.js'
export type { IceConfig } from './webrtc/ice-servers.js'
export type { RTCPeerConnectionConstructor } from './webrtc/peer-connection.js'

// Sinks
export { blobSink } from './sinks/blob-sink.js'
export type { BlobSinkInit } from './sinks/blob-sink.js'
export { fallbackSink } from './sinks/fallback-sink.js'
export { MAX_FILE_NAME_BYTES, sanitizeFileName } from './sinks/file-name.js'
export type { SinkOutput, TransferSink } from './sinks/sink.js'
