import type { IceCandidate } from '@chiral/core'

/**
 * A description without its candidate lines (`a=candidate`,
 * `a=end-of-candidates`): candidates travel by trickle only, and when they go
 * out is up to the session (see `WebRTCSession`).
 */
export function withoutCandidates (sdp: string): string {
  return sdp.replace(/^a=(candidate:|end-of-candidates).*(\r?\n|$)/gm, '')
}

/**
 * Not used by Chiral's path any more (kept for the DataChannel benchmark's
 * comparison): with the offerer as DTLS client, an offerer that applies the
 * answer while the answerer's ICE checks are already arriving can fail its
 * DTLS fingerprint check (see `WebRTCSession`).
 *
 * Rewrites a received offer so that the offerer is the DTLS client
 * (`a=setup:actpass` → `a=setup:active`); the answer then says
 * `a=setup:passive`, which the offerer accepts under its own `actpass`.
 *
 * Why: by default the answerer is the DTLS client. The answerer learns the
 * offerer's candidates first, so its ICE often connects before the offerer
 * has even applied the answer; its first DTLS ClientHello then reaches an
 * offerer with no DTLS transport yet, is dropped, and is only retransmitted
 * after OpenSSL's 1-second DTLS timer. With the offerer as client, the first
 * ClientHello leaves only once the offerer's own ICE is up, by which time
 * the answerer's DTLS server is listening. Measured with node-datachannel:
 * setup ≈ 1 s in most attempts before, ≈ 5–60 ms after.
 */
export function offerWithOffererAsDtlsClient (sdp: string): string {
  return sdp.replace(/^a=setup:actpass\r?$/gm, line => line.replace('actpass', 'active'))
}

/** The maximum message size an SDP declares (`a=max-message-size`), or undefined. */
export function sdpMaxMessageSize (sdp: string | undefined): number | undefined {
  if (sdp == null) return undefined
  const m = /^a=max-message-size:(\d+)/m.exec(sdp)
  if (m?.[1] == null) return undefined
  const n = Number.parseInt(m[1], 10)
  return Number.isFinite(n) ? n : undefined
}

/**
 * An RTCIceCandidate as it goes on the wire. node-datachannel's candidates
 * carry an `a=` prefix that browsers do not expect: it is removed.
 */
export function candidateToWire (candidate: RTCIceCandidate | RTCIceCandidateInit): IceCandidate {
  const text = candidate.candidate ?? ''
  return {
    candidate: text.startsWith('a=') ? text.slice(2) : text,
    sdpMid: candidate.sdpMid ?? null,
    sdpMLineIndex: candidate.sdpMLineIndex ?? null,
    usernameFragment: candidate.usernameFragment ?? null
  }
}

/** A wire candidate as `addIceCandidate` takes it. */
export function candidateFromWire (candidate: IceCandidate): RTCIceCandidateInit {
  const init: RTCIceCandidateInit = { candidate: candidate.candidate }
  if (candidate.sdpMid != null) init.sdpMid = candidate.sdpMid
  if (candidate.sdpMLineIndex != null) init.sdpMLineIndex = candidate.sdpMLineIndex
  if (candidate.sdpMid == null && candidate.sdpMLineIndex == null) init.sdpMLineIndex = 0
  if (candidate.usernameFragment != null) init.usernameFragment = candidate.usernameFragment
  return init
}
