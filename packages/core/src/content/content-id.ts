import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidContentIdError } from '../errors.js'

/**
 * A content id names a file by what it contains: a CIDv1 (base32 `bafy…`
 * when printed) of the manifest's root block, a dag-cbor document holding the
 * file size, the chunk size and every chunk's SHA-256. It does not include the
 * file name, so the same bytes cut with the same chunk size always get the
 * same id.
 */
export type ContentId = CID

export const CONTENT_ID_CODEC = dagCbor.code
export const CONTENT_ID_HASH = sha256.code

/**
 * Parses a content id from a string (or checks a CID) and returns it.
 * Throws `InvalidContentIdError` for anything that is not a CIDv1 with the
 * dag-cbor codec and a SHA-256 multihash.
 */
export function parseContentId (input: string | CID): ContentId {
  let cid: CID
  if (typeof input === 'string') {
    const text = input.trim()
    if (text.length === 0) {
      throw new InvalidContentIdError('Content id is empty')
    }
    try {
      cid = CID.parse(text)
    } catch (err) {
      throw new InvalidContentIdError(`Not a content id: "${abbreviate(text)}"`, { cause: err })
    }
  } else {
    const asCid = CID.asCID(input)
    if (asCid == null) {
      throw new InvalidContentIdError('Not a content id: expected a string or a CID')
    }
    cid = asCid
  }
  if (cid.version !== 1) {
    throw new InvalidContentIdError(`Content id must be a CIDv1, got CIDv${cid.version}`)
  }
  if (cid.code !== CONTENT_ID_CODEC) {
    throw new InvalidContentIdError(`Content id must use the dag-cbor codec (0x71), got 0x${cid.code.toString(16)}`)
  }
  if (cid.multihash.code !== CONTENT_ID_HASH || cid.multihash.digest.length !== 32) {
    throw new InvalidContentIdError('Content id must use a SHA-256 multihash')
  }
  return cid
}

/** Computes the content id of a root block. */
export async function contentIdOf (rootBlock: Uint8Array): Promise<ContentId> {
  return CID.createV1(CONTENT_ID_CODEC, await sha256.digest(rootBlock))
}

function abbreviate (text: string): string {
  return text.length > 64 ? `${text.slice(0, 61)}...` : text
}
