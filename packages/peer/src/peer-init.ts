/** Settings of a peer, and the defaults that make one work with no more than a signaling URL. */
import type { PathName } from './path-set.js'
import type { DirectTcpSetting, LivenessInit, Signaling } from '@chiral/core'
import type { ProviderInit, ReceiverInit, WebRTCInit } from '@chiral/transport'
import type { PrivateKey } from '@libp2p/interface'

export type SignalingMode = 'websocket' | 'hybrid' | 'libp2p'

export interface PeerInit {
  /**
   * The WebSocket signaling server, e.g. `wss://relay.example:9000`, or
   * several (one per instance of a deployment). It carries the direct path's
   * offers and, when `relays` is not given, its node tells the relay
   * addresses. Without it only the relay path exists.
   *
   * With several, the client registers on the first that answers and moves
   * to the next when that one dies (a round over all, then backoff), and,
   * when `relays` is not given, every node that answers at start gives its
   * relays: the peer holds a reservation on each, so it stays reachable
   * while one instance is down.
   */
  signaling?: string | string[]
  /** Relay / DHT server multiaddrs, each ending in `/p2p/<peer id>` (default: asked from the signaling server's node). */
  relays?: string[]
  /**
   * STUN / TURN servers for the direct path (default: the transport's public
   * STUN list; none when the node is on a private network, where host
   * addresses are what connects).
   */
  iceServers?: RTCIceServer[]
  /** Race a direct WebRTC path against the relay, and answer other peers' direct offers (default true). */
  direct?: boolean
  /**
   * How offers travel: `websocket` (the signaling server), `hybrid`
   * (libp2p through the relay first, the signaling server second) or
   * `libp2p` (through the relay only; no signaling server needed). Default
   * `websocket`: measured, it sets up the direct path sooner while the relay
   * already carries data: 4–18× sooner than hybrid in the NAT lab (docs/benchmarks.md, signaling-modes).
   */
  signalingMode?: SignalingMode
  /** Wraps the signaling client the peer built (to log or filter what it carries); the peer uses what this returns. */
  wrapSignaling?: (signaling: Signaling) => Signaling
  /**
   * The paths raced for each provider (default `relay` and, with `direct`,
   * `webrtc`; plus `dcutr` when `directTcp` is on).
   */
  paths?: PathName[]
  /** The peer's key: its PeerId on libp2p and its id on the signaling server (default: a new Ed25519 key). */
  privateKey?: PrivateKey
  /** Accept private and loopback addresses (default: true when the node is on a private network — a LAN, a lab, this machine). */
  allowPrivateAddresses?: boolean
  /**
   * Node only: listen directly on these multiaddrs too, besides the relay
   * reservations (default none), e.g. `/ip4/0.0.0.0/tcp/4010` on a machine
   * with a public address or a forwarded port. AutoNAT v2 then checks them:
   * see `peer.reachability`.
   */
  listen?: string[]
  /**
   * How long `peer.reachability` waits for an AutoNAT dial-back once a relay
   * / DHT server is connected before saying `private`, ms (default 10 s).
   */
  reachabilityWindow?: number
  /** Node only: hole-punched direct TCP to other Node peers (see core's `DirectTcpSetting`). */
  directTcp?: DirectTcpSetting
  /** When a silent libp2p connection counts as dead (see core's `LivenessInit`). */
  liveness?: LivenessInit
  /** From offer to open DataChannel before the direct path counts as failed, ms (default 10 s). */
  directConnectTimeout?: number
  /** The direct path's channel settings: send buffer marks, how long an idle peer connection stays up. */
  webrtc?: Pick<WebRTCInit, 'highWaterMark' | 'lowWaterMark' | 'idleTimeout' | 'reuseOpenTimeout'>
  /** `start()` waits this long for a relay reservation, ms (default 20 s; 0: do not wait). */
  relayTimeout?: number
  /** How long a fetch looks for providers, asking again while none is known, ms (default 30 s). */
  findTimeout?: number
  /** How long `share()` waits for its announcement to reach a DHT server, ms (default 30 s). */
  announceTimeout?: number
  /** Base of share links (default: the demo on the signaling server's node, `http(s)://host:port/`). */
  linkBase?: string
  /** The receiver's settings: retry budget, relay use, window, … */
  receiver?: ReceiverInit
  /** The provider's settings. */
  provider?: ProviderInit
}

export const DEFAULT_DIRECT_CONNECT_TIMEOUT = 10_000
export const DEFAULT_RELAY_TIMEOUT = 20_000
export const DEFAULT_FIND_TIMEOUT = 30_000
export const DEFAULT_ANNOUNCE_TIMEOUT = 30_000

/** The signaling URLs of `init`, as a list (empty without any). */
export function signalingUrlsOf (init: PeerInit): string[] {
  const { signaling } = init
  if (signaling === undefined) return []
  return [...new Set(typeof signaling === 'string' ? [signaling] : signaling)]
}

/** The paths raced when `paths` is not given. */
export function defaultPaths (init: PeerInit): PathName[] {
  const direct = init.direct !== false && (signalingUrlsOf(init).length > 0 || init.signalingMode === 'libp2p')
  return [
    'relay',
    ...(direct ? ['webrtc' as const] : []),
    ...(init.directTcp !== undefined && init.directTcp !== false ? ['dcutr' as const] : [])
  ]
}
