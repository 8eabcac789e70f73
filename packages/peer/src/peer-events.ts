/** The events a peer emits: one place to watch paths, transfers, serving and reachability. */
import type { PeerState } from './peer-state.js'
import type { AnnounceEventDetail, Reachability } from '@chiral/core'
import type { ConnectionStatus } from '@chiral/signaling'
import type {
  PathDialingDetail, PathDownDetail, PathEventDetail, PathFailedDetail, PathSwitchDetail, SessionEventDetail,
  TransferProgress, WebRTCChannelInfo, WebRTCOfferDetail, WebRTCSessionErrorDetail
} from '@chiral/transport'

/** How others can reach this peer. */
export interface ReachabilityDetail {
  /** This peer's relay circuit addresses (one per relay reservation). */
  relayAddresses: string[]
  /** The signaling client's state (`undefined` without a signaling server). */
  signaling?: ConnectionStatus
  /**
   * Whether other peers can dial this one directly, from AutoNAT v2 against
   * the relay / DHT servers (core's `Reachability`): `checking` while a
   * dial-back is awaited, `public` with the confirmed addresses, `private`
   * with why (`relay-only`: no direct listener, see `listen`;
   * `no-public-address`: listens on LAN addresses only, as behind a NAT;
   * `not-confirmed`: a public-looking address nobody could dial back, as
   * behind a firewall).
   */
  direct: Reachability
  /** The signaling server registered on or being tried (of several: which one). */
  signalingUrl?: string
}

export interface SignalingStateDetail {
  status: ConnectionStatus
  /** Failed rounds over the signaling URLs since the last registration. */
  attempt: number
  /** The server being tried or registered on; while backing off, the one tried next. */
  url?: string
  /** Until the next reconnect attempt, ms (while backing off). */
  delay?: number
}

export interface TransferProgressDetail {
  cid: string
  progress: TransferProgress
}

export interface FindingDetail {
  cid: string
  /** The search's number: 1, then 2, 3, … while nobody is known yet. */
  search: number
}

export interface PeerEvents {
  'state': CustomEvent<PeerState>
  /** Outgoing paths (this peer fetches): a dial started, a path is up, a dial failed, a path went down, new requests moved. */
  'path:dialing': CustomEvent<PathDialingDetail>
  'path:up': CustomEvent<PathEventDetail>
  'path:failed': CustomEvent<PathFailedDetail>
  'path:down': CustomEvent<PathDownDetail>
  'path:switch': CustomEvent<PathSwitchDetail>
  /** Incoming direct paths (another peer fetches from this one): an offer arrived, its channel opened, or it failed. */
  'incoming:offer': CustomEvent<WebRTCOfferDetail>
  'incoming:open': CustomEvent<WebRTCChannelInfo>
  'incoming:failed': CustomEvent<WebRTCSessionErrorDetail>
  /** Transfers this peer serves, on any path: opened, content asked for, ended (with what was sent). */
  'serve:open': CustomEvent<SessionEventDetail>
  'serve:content': CustomEvent<SessionEventDetail>
  'serve:close': CustomEvent<SessionEventDetail>
  /** A fetch looks for providers (again). */
  'fetch:finding': CustomEvent<FindingDetail>
  'fetch:progress': CustomEvent<TransferProgressDetail>
  /** An announcement or re-announcement reached the DHT (or failed: `error`). */
  'announce': CustomEvent<AnnounceEventDetail>
  /** Relay reservations, the signaling state or the direct reachability changed. */
  'reachability': CustomEvent<ReachabilityDetail>
  'signaling': CustomEvent<SignalingStateDetail>
}
