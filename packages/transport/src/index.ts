/**
 * @chiral/transport for Node: message channels, the relay path, and the
 * /chiral/transfer/1.0.0 provider and receiver (files on disk, `.part` +
 * resume record).
 */
import { Provider } from './provider/provider.js'
import { openNodeSource } from './provider/file-source.js'
import { Receiver } from './receiver/receiver.js'
import { blobSink } from './sinks/blob-sink.js'
import { fileSink } from './sinks/file-sink.js'
import { NODE_MAX_FILE_SIZE } from './receiver/size-limit.js'
import type { ProviderComponents, ProviderInit } from './provider/provider.js'
import type { FetchOptions, ReceiverComponents, ReceiverInit } from './receiver/receiver.js'
import type { TransferSink } from './sinks/sink.js'

export * from './exports.js'
export { fileSource } from './provider/file-source.js'
export { NodeRTCPeerConnection, releaseNodeWebRTC } from './webrtc/node-peer-connection.js'
export { configureSctp, DEFAULT_SCTP_SETTINGS } from './webrtc/sctp-settings.js'
export type { SctpSettings } from './webrtc/sctp-settings.js'
export { fileSink } from './sinks/file-sink.js'
export type { FileSink, FileSinkInit } from './sinks/file-sink.js'
export type { ResumeRecord } from './sinks/resume-record.js'

/** A provider that shares files by path, Blobs and content sources. */
export function createProvider (components: ProviderComponents = {}, init: ProviderInit = {}): Provider<string> {
  return new Provider<string>(components, init, openNodeSource)
}

/** A receiver that writes to `destination` (a directory) or, without one, returns a Blob. */
export function createReceiver (components: ReceiverComponents = {}, init: ReceiverInit = {}): Receiver {
  return new Receiver(components, init, defaultSink, { maxFileSize: NODE_MAX_FILE_SIZE })
}

function defaultSink (options: FetchOptions): TransferSink {
  if (options.destination == null) return blobSink()
  return fileSink({
    directory: options.destination,
    ...(options.fileName == null ? {} : { fileName: options.fileName }),
    ...(options.overwrite == null ? {} : { overwrite: options.overwrite })
  })
}
