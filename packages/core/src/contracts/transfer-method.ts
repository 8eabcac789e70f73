/**
 * How bytes travelled between two peers.
 *
 * - `webrtc-direct`: a WebRTC DataChannel on a peer-to-peer path (host or
 *   STUN-punched candidates), whether set up by Chiral's own signaling or by
 *   libp2p's `/p2p-circuit/webrtc`.
 * - `relay`: a libp2p circuit-relay-v2 stream through a relay node.
 * - `tcp-direct`: a libp2p stream on a direct TCP connection between the
 *   peers, typically a relayed connection upgraded by DCUtR hole punching
 *   (core's `directTcp` peer option).
 *
 * Extensible: other transports may report their own method names.
 */
export type TransferMethod = 'webrtc-direct' | 'relay' | 'tcp-direct' | (string & {})

export const TRANSFER_METHODS = ['webrtc-direct', 'relay', 'tcp-direct'] as const
