/**
 * @chiral/transport for browsers: message channels, the relay path, and the
 * /chiral/transfer/1.0.0 provider (Blobs/Files) and receiver (a File in the
 * origin private file system, resumable; in memory where OPFS is missing).
 */
import { openPortableSource } from './provider/content-source.js'
import { Provider } from './provider/provider.js'
import { Receiver } from './receiver/receiver.js'
import { BROWSER_MAX_FILE_SIZE } from './receiver/size-limit.js'
import { blobSink } from './sinks/blob-sink.js'
import { fallbackSink } from './sinks/fallback-sink.js'
import { opfsSink } from './sinks/opfs-sink.js'
import type { ProviderComponents, ProviderInit } from './provider/provider.js'
import type { ReceiverComponents, ReceiverInit } from './receiver/receiver.js'

export * from './exports.js'
export { opfsSink } from './sinks/opfs-sink.js'
export type { OpfsSinkInit } from './sinks/opfs-sink.js'
export type { OpfsWorkerFactory } from './sinks/opfs-worker-file.js'
export { OPFS_DOWNLOADS_DIR, opfsAvailable, pruneStoredDownloads, removeStoredDownload } from './sinks/opfs-store.js'

/** A provider that shares Blobs, Files and content sources. */
export function createProvider (components: ProviderComponents = {}, init: ProviderInit = {}): Provider<never> {
  return new Provider<never>(components, init, openPortableSource)
}

/**
 * A receiver that delivers each file as a Blob (`result.blob`): by default a
 * disk-backed File in the origin private file system (resumable after a
 * reload), or one held in memory where OPFS cannot be used.
 */
export function createReceiver (components: ReceiverComponents = {}, init: ReceiverInit = {}): Receiver {
  return new Receiver(components, init, () => fallbackSink(opfsSink(), () => blobSink()), { maxFileSize: BROWSER_MAX_FILE_SIZE })
}
