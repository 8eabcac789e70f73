import { throwIfAborted } from '../errors.js'
import { chunked, toAsyncIterable } from './byte-source.js'
import { DEFAULT_CHUNK_SIZE, validateChunkSize } from './chunks.js'
import { encodeRootBlock } from './manifest-codec.js'
import { contentIdOf } from './content-id.js'
import { sha256Digest } from './sha256.js'
import type { ByteSource } from './byte-source.js'
import type { ContentId } from './content-id.js'
import type { AbortOptions } from '../contracts/abort.js'

/** What a receiver needs to fetch and verify a file. */
export interface Manifest {
  /** The content id: hash of the root block (size, chunk size, chunk hashes). */
  readonly cid: ContentId
  /** Suggested file name. Not part of the content id; sanitise before use. */
  readonly name: string
  /** File size in bytes. */
  readonly size: number
  /** Bytes per chunk; the last chunk may be shorter. */
  readonly chunkSize: number
  /** SHA-256 of each chunk, in order. */
  readonly chunks: readonly Uint8Array[]
}

export interface ManifestProgress {
  /** Bytes hashed so far. */
  bytes: number
  /** Total bytes, when the source knows it (a Blob). */
  total?: number
}

export interface CreateManifestOptions extends AbortOptions {
  /** File name carried in the manifest (default: a Blob's/File's name, else `"file"`). */
  name?: string
  /** Bytes per chunk (default 1 MiB; 16 KiB to 16 MiB). */
  chunkSize?: number
  /** Chunks hashed at once (default 4). Memory held is about `concurrency × chunkSize`. */
  concurrency?: number
  /** Called after each chunk is hashed. */
  onProgress?: (progress: ManifestProgress) => void
}

/**
 * Builds a file's manifest by streaming it once: memory does not grow with
 * the file size. Throws `AbortError` when the signal fires.
 */
export async function createManifest (source: ByteSource, options: CreateManifestOptions = {}): Promise<Manifest> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  validateChunkSize(chunkSize)
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4))
  const total = typeof Blob !== 'undefined' && source instanceof Blob ? source.size : undefined
  const name = options.name ?? blobName(source) ?? 'file'
  const signal = options.signal

  const digests: Array<Promise<Uint8Array>> = []
  const inFlight = new Set<Promise<Uint8Array>>()
  let size = 0
  let hashed = 0

  throwIfAborted(signal)
  for await (const chunk of chunked(toAsyncIterable(source), chunkSize)) {
    throwIfAborted(signal)
    size += chunk.byteLength
    const length = chunk.byteLength
    const digest = sha256Digest(chunk).then((d) => {
      hashed += length
      options.onProgress?.({ bytes: hashed, ...(total === undefined ? {} : { total }) })
      return d
    })
    digests.push(digest)
    inFlight.add(digest)
    void digest.finally(() => inFlight.delete(digest)).catch(() => {})
    if (inFlight.size >= concurrency) {
      await Promise.race(inFlight)
    }
  }
  const chunks = await Promise.all(digests)
  throwIfAborted(signal)

  const cid = await contentIdOf(encodeRootBlock({ size, chunkSize, chunks }))
  return { cid, name, size, chunkSize, chunks }
}

function blobName (source: ByteSource): string | undefined {
  const name = (source as { name?: unknown }).name
  return typeof name === 'string' && name.length > 0 ? name : undefined
}
