import { InvalidArgumentError } from '../errors.js'

/**
 * Default chunk size: 1 MiB.
 *
 * - Verification and resume work per chunk: a corrupt chunk costs a 1 MiB
 *   refetch, and an interrupted fetch loses at most the chunks in flight.
 * - A manifest holds 32 bytes per chunk: 32 KiB for a 1 GiB file, so the
 *   manifest stays one small message even for large files.
 * - The transfer pipelines a window of chunks; eight 1 MiB chunks in flight
 *   (8 MiB) cover the bandwidth-delay product of a 100 MB/s path at 80 ms RTT,
 *   while a 256 KiB DataChannel message still carries a quarter chunk, so each
 *   chunk is only a few messages.
 * - Hashing 1 MiB at a time keeps WebCrypto's per-call overhead negligible.
 */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024

export const MIN_CHUNK_SIZE = 16 * 1024
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024

/** Number of chunks a file of `size` bytes has. A 0-byte file has none. */
export function chunkCount (size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

/** Length in bytes of chunk `index` of a manifest. */
export function chunkLength (manifest: { size: number, chunkSize: number }, index: number): number {
  const start = index * manifest.chunkSize
  return Math.max(0, Math.min(manifest.chunkSize, manifest.size - start))
}

export function validateChunkSize (chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new InvalidArgumentError(`Chunk size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`)
  }
}

