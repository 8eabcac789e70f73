/**
 * The DCUtR wire message (libp2p specs, relay/DCUtR.md), protobuf:
 *
 * ```
 * message HolePunch {
 *   enum Type { CONNECT = 100; SYNC = 300; }
 *   required Type type = 1;
 *   repeated bytes ObsAddrs = 2;
 * }
 * ```
 *
 * Sent length-prefixed (unsigned varint) on `/libp2p/dcutr` streams. Two
 * fields do not warrant a protobuf code generator; unknown fields are skipped
 * so newer peers stay readable.
 */
import { InvalidArgumentError } from '../../errors.js'

export const DCUTR_PROTOCOL = '/libp2p/dcutr'

/** Largest DCUtR message accepted (the spec's limit, as in go-libp2p and js-libp2p). */
export const MAX_HOLE_PUNCH_MESSAGE = 4096

export const HolePunchType = { CONNECT: 100, SYNC: 300 } as const
export type HolePunchType = typeof HolePunchType[keyof typeof HolePunchType]

export interface HolePunchMessage {
  type: HolePunchType
  /** Multiaddrs in their binary form. */
  observedAddresses: Uint8Array[]
}

export function encodeHolePunch (message: HolePunchMessage): Uint8Array {
  const parts: number[] = [0x08, ...varint(message.type)]
  for (const addr of message.observedAddresses) {
    parts.push(0x12, ...varint(addr.byteLength), ...addr)
  }
  return Uint8Array.from(parts)
}

export function decodeHolePunch (bytes: Uint8Array): HolePunchMessage {
  let type: number | undefined
  const observedAddresses: Uint8Array[] = []
  let at = 0
  const readVarint = (): number => {
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= bytes.length) throw new InvalidArgumentError('HolePunch message ends inside a varint')
      const byte = bytes[at++]!
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
    }
    throw new InvalidArgumentError('HolePunch varint too long')
  }
  const take = (length: number): Uint8Array => {
    if (at + length > bytes.length) throw new InvalidArgumentError('HolePunch field runs past the message')
    const out = bytes.subarray(at, at + length)
    at += length
    return out
  }
  while (at < bytes.length) {
    const key = readVarint()
    const field = Math.floor(key / 8)
    const wire = key % 8
    if (field === 1 && wire === 0) type = readVarint()
    else if (field === 2 && wire === 2) observedAddresses.push(take(readVarint()))
    else if (wire === 0) readVarint()
    else if (wire === 2) take(readVarint())
    else if (wire === 1) take(8)
    else if (wire === 5) take(4)
    else throw new InvalidArgumentError(`HolePunch message has an unsupported wire type ${wire}`)
  }
  if (type !== HolePunchType.CONNECT && type !== HolePunchType.SYNC) {
    throw new InvalidArgumentError(`HolePunch message has type ${String(type)}, expected CONNECT (100) or SYNC (300)`)
  }
  return { type, observedAddresses }
}

function varint (value: number): number[] {
  const out: number[] = []
  let v = value
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return out
}
