/**
 * @chiral/transport for browsers: message channels, the relay path, and the
 * /chiral/transfer/1.0.0 provider (Blobs/Files) and receiver (a Blob).
 */
import { openPortableSource } from './provider/content-source.js'
import { Provider } from './provider/provider.js'
import { Receiver } from './receiver/receiver.js'
import { blobSink } from './sinks/blob-sink.js'
import type { ProviderComponents, ProviderInit } from './provider/provider.js'
import type { ReceiverComponents, ReceiverInit } from './receiver/receiver.js'

export * from './exports.js'

/** A provider that shares Blobs, Files and content sources. */
export function createProvider (components: ProviderComponents = {}, init: ProviderInit = {}): Provider<never> {
  return new Provider<never>(components, init, openPortableSource)
}

/** A receiver that delivers each file as a Blob (`result.blob`). */
export function createReceiver (components: ReceiverComponents = {}, init: ReceiverInit = {}): Receiver {
  return new Receiver(components, init, () => blobSink())
}
