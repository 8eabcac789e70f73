import { chunkLength } from '@chiral/core'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { TRANSFER_PROTOCOL } from '../protocol/constants.js'
import type { Manifest } from '@chiral/core'

/**
 * What sits beside a partly written file so a later fetch can resume: which
 * content it holds and which chunks were verified and written. Small JSON
 * (the chunk set is a base64 bitfield: 128 bytes for a 1 GiB file). Node
 * keeps it in `<name>.part.json`, browsers in the origin private file system.
 */
export interface ResumeRecord {
  version: 1
  protocol: string
  cid: string
  name: string
  size: number
  chunkSize: number
  chunks: number
  /** Base64 (padded) bitfield, bit `i` (MSB first) set when chunk `i` is in the file. */
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
    verified: toString(bits.bits, 'base64pad'),
    updatedAt: new Date().toISOString()
  }
}

/** Parses a record's JSON text; undefined when it is not a well-formed record. */
export function parseResumeRecord (text: string): ResumeRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const r = value as Partial<ResumeRecord> | null
  if (r == null || typeof r !== 'object' || r.version !== 1 || typeof r.cid !== 'string' || typeof r.name !== 'string' ||
    !Number.isSafeInteger(r.size) || !Number.isSafeInteger(r.chunkSize) || !Number.isSafeInteger(r.chunks) ||
    typeof r.verified !== 'string') {
    return undefined
  }
  return r as ResumeRecord
}

/** The chunks a record claims, when it describes exactly this manifest's content. */
export function claimedChunks (record: ResumeRecord | undefined, manifest: Manifest): ChunkBits | undefined {
  if (record == null || record.cid !== manifest.cid.toString() || record.size !== manifest.size ||
    record.chunkSize !== manifest.chunkSize || record.chunks !== manifest.chunks.length) {
    return undefined
  }
  try {
    return new ChunkBits(manifest.chunks.length, fromString(record.verified, 'base64pad'))
  } catch {
    return undefined
  }
}

/** Bytes of the file a record says are verified (the last chunk may be short). */
export function verifiedBytesOf (record: ResumeRecord): number {
  let bits: ChunkBits
  try {
    bits = new ChunkBits(record.chunks, fromString(record.verified, 'base64pad'))
  } catch {
    return 0
  }
  let bytes = 0
  for (let i = 0; i < record.chunks; i++) {
    if (bits.has(i)) bytes += chunkLength(record, i)
  }
  return bytes
}
