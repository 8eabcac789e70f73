import { readFile, rename, writeFile } from 'node:fs/promises'
import { TRANSFER_PROTOCOL } from '../protocol/constants.js'
import type { Manifest } from '@chiral/core'

/**
 * What sits beside a `.part` file so a later fetch can resume: which content
 * it holds and which chunks were verified and written. Small JSON (the
 * chunk set is a base64 bitfield: 128 bytes for a 1 GiB file).
 */
export interface ResumeRecord {
  version: 1
  protocol: string
  cid: string
  name: string
  size: number
  chunkSize: number
  chunks: number
  /** Base64 bitfield, bit `i` (MSB first) set when chunk `i` is in the `.part` file. */
  verified: string
  updatedAt: string
}

/** A growable set of chunk indices kept as a bitfield. */
export class ChunkBits {
  readonly bits: Uint8Array
  constructor (count: number, from?: Uint8Array) {
    this.bits = new Uint8Array(Math.ceil(count / 8))
    if (from != null) this.bits.set(from.subarray(0, this.bits.byteLength))
  }

  set (index: number): void { this.bits[index >> 3]! |= 0x80 >> (index & 7) }
  has (index: number): boolean { return ((this.bits[index >> 3] ?? 0) & (0x80 >> (index & 7))) !== 0 }
}

export function recordFor (manifest: Manifest, bits: ChunkBits): ResumeRecord {
  return {
    version: 1,
    protocol: TRANSFER_PROTOCOL,
    cid: manifest.cid.toString(),
    name: manifest.name,
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    chunks: manifest.chunks.length,
    verified: Buffer.from(bits.bits).toString('base64'),
    updatedAt: new Date().toISOString()
  }
}

/** Reads a record; undefined when absent, unreadable or not for this manifest. */
export async function readResumeRecord (path: string, manifest: Manifest): Promise<ChunkBits | undefined> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch {
    return undefined
  }
  const r = value as Partial<ResumeRecord>
  if (r == null || r.version !== 1 || r.cid !== manifest.cid.toString() || r.size !== manifest.size ||
    r.chunkSize !== manifest.chunkSize || r.chunks !== manifest.chunks.length || typeof r.verified !== 'string') {
    return undefined
  }
  return new ChunkBits(manifest.chunks.length, Buffer.from(r.verified, 'base64'))
}

/** Writes a record atomically (temporary file, then rename). */
export async function writeResumeRecord (path: string, record: ResumeRecord): Promise<void> {
  const tmp = `${path}.tmp`
  await writeFile(tmp, JSON.stringify(record))
  await rename(tmp, path)
}
