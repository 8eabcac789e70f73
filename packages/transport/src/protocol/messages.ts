import { CID } from 'multiformats/cid'
import { TransferProtocolError } from '../errors.js'
import {
  MAX_REQUEST_INDEXES, MessageType, OPEN_WANT_MANIFEST, PIECE_HEADER_LENGTH, SESSION_ERROR_INDEX, WIRE_ERROR_CODES
} from './constants.js'
import type { WireErrorCode } from './constants.js'

/** A decoded /chiral/transfer/1.0.0 message. Payloads are views into the received bytes. */
export type TransferMessage =
  | { type: 'open', cid: CID, wantManifest: boolean }
  | { type: 'request', indices: number[] }
  | { type: 'manifest', total: number, offset: number, bytes: Uint8Array }
  | { type: 'chunk', index: number, offset: number, bytes: Uint8Array }
  | { type: 'ready' }
  | { type: 'error', index: number | undefined, code: WireErrorCode, message: string }

const MAX_ERROR_TEXT = 512
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeOpen (cid: CID, wantManifest: boolean): Uint8Array {
  const out = new Uint8Array(2 + cid.bytes.byteLength)
  out[0] = MessageType.Open
  out[1] = wantManifest ? OPEN_WANT_MANIFEST : 0
  out.set(cid.bytes, 2)
  return out
}

export function encodeRequest (indices: readonly number[]): Uint8Array {
  const out = new Uint8Array(1 + 4 * indices.length)
  const view = new DataView(out.buffer)
  out[0] = MessageType.Request
  indices.forEach((index, i) => { view.setUint32(1 + 4 * i, index) })
  return out
}

export function encodeReady (): Uint8Array {
  return Uint8Array.of(MessageType.Ready)
}

/**
 * Allocates a `Manifest` or `Chunk` message with room for `length` payload
 * bytes after the header; the caller fills `message.subarray(PIECE_HEADER_LENGTH)`.
 * Lets a provider read file bytes straight into the message.
 */
export function allocatePiece (type: 'manifest' | 'chunk', first: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(PIECE_HEADER_LENGTH + length)
  const view = new DataView(out.buffer)
  out[0] = type === 'manifest' ? MessageType.Manifest : MessageType.Chunk
  view.setUint32(1, first)
  view.setUint32(5, offset)
  return out
}

/**
 * `index` undefined: an error about the whole session. A chunk index can never
 * be `0xffffffff` (that value means "the whole session" on the wire).
 */
export function encodeError (index: number | undefined, code: WireErrorCode, message: string): Uint8Array {
  if (index !== undefined && (!Number.isInteger(index) || index < 0 || index >= SESSION_ERROR_INDEX)) {
    throw new RangeError(`Chunk index ${index} cannot be carried by an Error message`)
  }
  const codeBytes = encoder.encode(code)
  const text = encoder.encode(message.slice(0, MAX_ERROR_TEXT))
  const out = new Uint8Array(6 + codeBytes.byteLength + text.byteLength)
  const view = new DataView(out.buffer)
  out[0] = MessageType.Error
  view.setUint32(1, index ?? SESSION_ERROR_INDEX)
  out[5] = codeBytes.byteLength
  out.set(codeBytes, 6)
  out.set(text, 6 + codeBytes.byteLength)
  return out
}

/** Decodes one message; throws `TransferProtocolError` for anything malformed. */
export function decodeMessage (bytes: Uint8Array): TransferMessage {
  if (bytes.byteLength === 0) throw new TransferProtocolError('Empty message')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const type = bytes[0]
  switch (type) {
    case MessageType.Open: {
      if (bytes.byteLength < 3) throw new TransferProtocolError('Open message too short')
      let cid: CID
      try {
        cid = CID.decode(bytes.subarray(2))
      } catch (err) {
        throw new TransferProtocolError('Open message carries no valid content id', { cause: err })
      }
      return { type: 'open', cid, wantManifest: ((bytes[1] ?? 0) & OPEN_WANT_MANIFEST) !== 0 }
    }
    case MessageType.Request: {
      const count = (bytes.byteLength - 1) / 4
      if (!Number.isInteger(count) || count === 0) throw new TransferProtocolError('Request message has a bad length')
      if (count > MAX_REQUEST_INDEXES) throw new TransferProtocolError(`Request carries ${count} indexes, more than ${MAX_REQUEST_INDEXES}`)
      const indices: number[] = []
      for (let i = 0; i < count; i++) {
        const index = view.getUint32(1 + 4 * i)
        if (index === SESSION_ERROR_INDEX) throw new TransferProtocolError('Request carries the reserved index 0xffffffff')
        indices.push(index)
      }
      return { type: 'request', indices }
    }
    case MessageType.Manifest:
    case MessageType.Chunk: {
      if (bytes.byteLength < PIECE_HEADER_LENGTH) throw new TransferProtocolError('Piece message too short')
      const first = view.getUint32(1)
      const offset = view.getUint32(5)
      const payload = bytes.subarray(PIECE_HEADER_LENGTH)
      return type === MessageType.Manifest
        ? { type: 'manifest', total: first, offset, bytes: payload }
        : { type: 'chunk', index: first, offset, bytes: payload }
    }
    case MessageType.Ready:
      return { type: 'ready' }
    case MessageType.Error: {
      if (bytes.byteLength < 6) throw new TransferProtocolError('Error message too short')
      const index = view.getUint32(1)
      const codeLength = bytes[5] ?? 0
      if (bytes.byteLength < 6 + codeLength) throw new TransferProtocolError('Error message too short for its code')
      const raw = decoder.decode(bytes.subarray(6, 6 + codeLength))
      const code: WireErrorCode = (WIRE_ERROR_CODES as readonly string[]).includes(raw) ? raw as WireErrorCode : 'internal'
      const message = decoder.decode(bytes.subarray(6 + codeLength)).slice(0, MAX_ERROR_TEXT)
      return { type: 'error', index: index === SESSION_ERROR_INDEX ? undefined : index, code, message }
    }
    default:
      throw new TransferProtocolError(`Unknown message type 0x${(type ?? 0).toString(16)}`)
  }
}
