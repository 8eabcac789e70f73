import type { SinkOutput, TransferSink } from './sink.js'
import type { Manifest } from '@chiral/core'

export interface BlobSinkInit {
  /** MIME type of the Blob (default `application/octet-stream`). */
  type?: string
}

/**
 * Collects verified chunks in memory and hands back a Blob (browsers; also
 * usable in Node for small files). Memory is the file's size: for large
 * files in Node use the file sink. Nothing survives a failed transfer.
 */
export function blobSink (init: BlobSinkInit = {}): TransferSink {
  let parts: Array<Uint8Array | undefined> = []
  return {
    async open (manifest: Manifest) {
      parts = new Array(manifest.chunks.length)
      return []
    },
    async write (index, bytes) {
      // A view into a larger receive buffer would pin all of it: keep an exact copy.
      parts[index] = bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
    },
    async complete (): Promise<SinkOutput> {
      const blob = new Blob(parts as Array<Uint8Array<ArrayBuffer>>, { type: init.type ?? 'application/octet-stream' })
      parts = []
      return { blob }
    },
    async abort () {
      parts = []
    }
  }
}
