import type { AbortOptions, Startable } from './abort.js'
import type { TypedEventTarget } from 'main-event'

/** An ICE candidate as browsers serialise it (`RTCIceCandidate.toJSON()`). */
export interface IceCandidate {
  candidate: string
  sdpMid?: string | null
  sdpMLineIndex?: number | null
  usernameFragment?: string | null
}

/**
 * What two peers exchange to set up a WebRTC session. `session` tells apart
 * concurrent or successive attempts between the same two peers; a candidate of
 * `null` means the sender has gathered all its candidates.
 */
export type SignalMessage =
  | { type: 'offer', sdp: string, session?: string }
  | { type: 'answer', sdp: string, session?: string }
  | { type: 'candidate', candidate: IceCandidate | null, session?: string }

/** Which backend carried a signaling message. */
export type SignalingRoute = 'websocket' | 'libp2p'

export interface SignalEvent {
  /** The sender's id, as established by the backend (never taken from the message). */
  from: string
  message: SignalMessage
  route: SignalingRoute
}

export interface SignalingEvents {
  /** A message from another peer. */
  signal: CustomEvent<SignalEvent>
}

/**
 * Carries SDP offers/answers and ICE candidates between peers addressed by id
 * (a libp2p PeerId string, or an anonymous id on a WebSocket server).
 * Implemented by `@chiral/signaling` (WebSocket, libp2p, hybrid) and consumed by
 * `@chiral/transport`'s WebRTC path; neither imports the other.
 */
export interface Signaling extends TypedEventTarget<SignalingEvents>, Startable {
  /** The id other peers use to reach this one. */
  readonly id: string
  /** Delivers `message` to peer `to`; resolves with the route that took it. */
  send(to: string, message: SignalMessage, options?: AbortOptions): Promise<SignalingRoute>
}
