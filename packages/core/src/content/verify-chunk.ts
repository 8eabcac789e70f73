import { InvalidArgumentError } from '../errors.js'
import { chunkLength } from './chunks.js'
import { equalBytes, sha256Digest } from './sha256.js'
import type { Manifest } from './manifest.js'

/**
 * True when `bytes` is exactly chunk `index` of the manifest's file: right
 * length and right SHA-256. Throws `InvalidArgumentError` for an index the
 * manifest does not have.
 */
export async function verifyChunk (manifest: Manifest, index: number, bytes: Uint8Array): Promise<boolean> {
  if (!Number.isSafeInteger(index) || index < 0 || index >= manifest.chunks.length) {
    throw new InvalidArgumentError(`Chunk index ${index} is out of range (0..${manifest.chunks.length - 1})`)
  }
  if (bytes.byteLength !== chunkLength(manifest, index)) {
    return false
  }
  const expected = manifest.chunks[index]
  return expected !== undefined && equalBytes(await sha256Digest(bytes), expected)
}
