/**
 * PeerId registration: the server sends a random nonce on connect; a client
 * whose id is a libp2p PeerId signs
 *
 *     UTF-8("chiral-signaling/register/v1\n" + nonce)
 *
 * with that peer's private key and sends the signature (unpadded base64url)
 * in its `register` frame. The prefix keeps the signature from being valid for
 * any other protocol that signs bare nonces. For RSA PeerIds (whose id is a
 * hash, not the key) the client also sends its public key as the libp2p
 * protobuf encoding, unpadded base64url.
 */
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { fromString as bytesFromString, toString as bytesToString } from 'uint8arrays'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

export const CHALLENGE_DOMAIN = 'chiral-signaling/register/v1\n'

/** The exact bytes a PeerId registration signs. */
export function challengePayload (nonce: string): Uint8Array {
  return bytesFromString(CHALLENGE_DOMAIN + nonce, 'utf8')
}

/** A fresh nonce: 32 random bytes, unpadded base64url. */
export function createNonce (): string {
  return bytesToString(globalThis.crypto.getRandomValues(new Uint8Array(32)), 'base64url')
}

/** The PeerId an id string denotes, or undefined when it is not a PeerId (an anonymous id). */
export function parsePeerId (id: string): PeerId | undefined {
  try {
    const peerId = peerIdFromString(id)
    return peerId.type === 'url' ? undefined : peerId
  } catch {
    return undefined
  }
}

export interface SignedRegistration {
  signature: string
  publicKey?: string
}

/** Signs a challenge nonce with a peer's key, for a `register` frame. */
export async function signChallenge (privateKey: PrivateKey, nonce: string): Promise<SignedRegistration> {
  const signature = bytesToString(await privateKey.sign(challengePayload(nonce)), 'base64url')
  if (privateKey.type === 'RSA') {
    return { signature, publicKey: bytesToString(publicKeyToProtobuf(privateKey.publicKey), 'base64url') }
  }
  return { signature }
}

/**
 * True when `signature` is `peerId`'s signature over the challenge payload of
 * `nonce`. Never throws: malformed keys or signatures verify as false.
 */
export async function verifyChallenge (peerId: PeerId, nonce: string, signature: string, publicKey?: string): Promise<boolean> {
  try {
    let key: PublicKey | undefined = peerId.publicKey
    if (publicKey !== undefined) {
      const given = publicKeyFromProtobuf(bytesFromString(publicKey, 'base64url'))
      if (!peerIdFromPublicKey(given).equals(peerId)) return false
      key = given
    }
    if (key === undefined) return false
    return await key.verify(challengePayload(nonce), bytesFromString(signature, 'base64url'))
  } catch {
    return false
  }
}
