import { toAsyncIterable } from '@chiral/core'
import { ContentUnavailableError } from '../errors.js'
import type { AbortOptions } from '@chiral/core'

/**
 * Random access to the bytes a provider shares. A provider reads only the
 * ranges a receiver asks for; nothing holds the whole file in memory.
 */
export interface ContentSource {
  /** Size in bytes. */
  readonly size: number
  /** Suggested file name, when the source knows one. */
  readonly name?: string
  /** Fills `target` with the bytes at `offset` (exactly `target.byteLength` of them). */
  read(offset: number, target: Uint8Array, options?: AbortOptions): Promise<void>
  /** The whole content front to back, to build its manifest. */
  stream(): AsyncIterable<Uint8Array>
  /** Releases what the source holds open (a file handle). */
  close(): Promise<void>
}

/** What `provider.share()` accepts on every platform. */
export type ShareInput = Blob | ContentSource

/** A Blob or File (browser, or Node ≥ 20) as a content source: `slice()` reads only the asked range. */
export function blobSource (blob: Blob): ContentSource {
  const name = (blob as { name?: unknown }).name
  return {
    size: blob.size,
    ...(typeof name === 'string' && name.length > 0 ? { name } : {}),
    async read (offset, target) {
      const end = offset + target.byteLength
      if (end > blob.size) throw new ContentUnavailableError(`Read past the end of the shared blob (${end} > ${blob.size})`)
      target.set(new Uint8Array(await blob.slice(offset, end).arrayBuffer()))
    },
    stream: () => toAsyncIterable(blob),
    async close () {}
  }
}

export function isContentSource (input: unknown): input is ContentSource {
  return input != null && typeof input === 'object' &&
    typeof (input as ContentSource).read === 'function' &&
    typeof (input as ContentSource).stream === 'function' &&
    typeof (input as ContentSource).size === 'number'
}

/** Turns a platform's share input into a content source. */
export type OpenSource<Input> = (input: Input | ShareInput, options?: AbortOptions) => Promise<ContentSource>

/** The browser's (and the platform-independent) resolver: Blobs and ready sources. */
export async function openPortableSource (input: ShareInput): Promise<ContentSource> {
  if (isContentSource(input)) return input
  if (typeof Blob !== 'undefined' && input instanceof Blob) return blobSource(input)
  throw new ContentUnavailableError('Cannot share this input here: expected a Blob, a File or a ContentSource')
}
