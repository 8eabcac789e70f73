import * as dagCbor from '@ipld/dag-cbor'
import { InvalidManifestError } from '../errors.js'
import { contentIdOf, parseContentId } from './content-id.js'
import { chunkCount, validateChunkSize } from './chunks.js'
import type { ContentId } from './content-id.js'
import type { Manifest } from './manifest.js'

/** Largest encoded manifest accepted (≈ 2 M chunks: a 2 TiB file at 1 MiB chunks). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024

const VERSION = 1

interface RootFields {
  size: number
  chunkSize: number
  chunks: readonly Uint8Array[]
}

/** The block whose hash is the content id. Deterministic (dag-cbor is canonical). */
export function encodeRootBlock (root: RootFields): Uint8Array {
  return dagCbor.encode({ v: VERSION, size: root.size, chunkSize: root.chunkSize, chunks: root.chunks })
}

/** Encodes a manifest for the wire: the root fields plus the file name. */
export function encodeManifest (manifest: Manifest): Uint8Array {
  return dagCbor.encode({
    v: VERSION,
    name: manifest.name,
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    chunks: manifest.chunks
  })
}

/**
 * Decodes and checks a manifest. With `expected`, also checks that it hashes
 * to that content id. Throws `InvalidManifestError` on any mismatch.
 */
export async function decodeManifest (bytes: Uint8Array, expected?: ContentId | string): Promise<Manifest> {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new InvalidManifestError(`Manifest is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`)
  }
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new InvalidManifestError('Manifest is not valid dag-cbor', { cause: err })
  }
  if (value == null || typeof value !== 'object') {
    throw new InvalidManifestError('Manifest is not a map')
  }
  const m = value as Record<string, unknown>
  if (m.v !== VERSION) throw new InvalidManifestError(`Unsupported manifest version ${String(m.v)}`)
  if (typeof m.name !== 'string') throw new InvalidManifestError('Manifest name is not a string')
  if (!Number.isSafeInteger(m.size) || (m.size as number) < 0) throw new InvalidManifestError('Manifest size is not a non-negative integer')
  if (typeof m.chunkSize !== 'number') throw new InvalidManifestError('Manifest chunk size is not a number')
  try {
    validateChunkSize(m.chunkSize)
  } catch (err) {
    throw new InvalidManifestError('Manifest chunk size is out of range', { cause: err })
  }
  const size = m.size as number
  const chunkSize = m.chunkSize
  if (!Array.isArray(m.chunks) || m.chunks.length !== chunkCount(size, chunkSize)) {
    throw new InvalidManifestError('Manifest chunk list does not match its size')
  }
  const chunks = m.chunks as unknown[]
  for (const c of chunks) {
    if (!(c instanceof Uint8Array) || c.byteLength !== 32) {
      throw new InvalidManifestError('Manifest chunk hash is not 32 bytes')
    }
  }
  const root = { size, chunkSize, chunks: chunks as Uint8Array[] }
  const cid = await contentIdOf(encodeRootBlock(root))
  if (expected !== undefined && !cid.equals(parseContentId(expected))) {
    throw new InvalidManifestError(`Manifest hashes to ${cid.toString()}, not to the requested ${String(expected)}`)
  }
  return { cid, name: m.name, ...root }
}
