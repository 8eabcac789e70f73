import type { ReachabilityInit } from './reachability.js'
import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { Libp2pOptions } from 'libp2p'

/** Private DHT protocol: Chiral nodes never join the public IPFS DHT. */
export const DHT_PROTOCOL = '/chiral/kad/1.0.0'

/** What a libp2p node is for. */
export type NodeRole = 'server' | 'peer' | 'browser'

/**
 * Relay limits of a `server` node, per relayed connection. libp2p's defaults
 * (128 KiB, 2 minutes) end any real file transfer; these are sized for files.
 * A transfer cut by a limit resumes on a new relayed connection.
 */
export interface RelayLimits {
  /** Reservations held at once (default 256). A reservation ends when its peer's last connection to the relay closes. */
  maxReservations?: number
  /**
   * Reservations held at once by peers connecting from one IP address
   * (default 32; `Infinity` for no cap). A peer over it is refused
   * (PERMISSION_DENIED); see `presets/relay-reservations.ts`.
   */
  maxReservationsPerIp?: number
  /** How long a reservation lasts before the peer must renew it, ms (default 2 h). */
  reservationTtl?: number
  /** Bytes per relayed connection in each direction (default 4 GiB); `Infinity` for no limit. */
  dataLimit?: number
  /** Lifetime of a relayed connection, ms (default 1 h); `Infinity` for no limit. */
  durationLimit?: number
  /**
   * Bytes per second per relayed connection in each direction (default
   * `Infinity`, no cap). Enforced at the relay by reading more slowly, so the
   * sending peer's flow control pushes back; see `presets/relay-rate-limit.ts`.
   */
  rateLimit?: number
}

export const DEFAULT_RELAY_LIMITS: Required<RelayLimits> = {
  maxReservations: 256,
  maxReservationsPerIp: 32,
  reservationTtl: 2 * 60 * 60 * 1000,
  dataLimit: 4 * 1024 ** 3,
  durationLimit: 60 * 60 * 1000,
  rateLimit: Infinity
}

/** Settings shared by every role. */
export interface CommonNodeInit {
  /** The node's key; its PeerId derives from it. A new Ed25519 key when absent. */
  privateKey?: PrivateKey
  /** Multiaddrs to listen on (role defaults when absent). */
  listen?: string[]
  /** Multiaddrs to announce instead of the listening ones (e.g. a VM's public IP). */
  announce?: string[]
  /**
   * Relay / DHT server multiaddrs, each ending in `/p2p/<peer id>`. Peers and
   * browsers keep a connection to each (reconnecting when it drops) and
   * reserve a relay slot on each relay (one reservation per distinct peer,
   * when the node listens on `/p2p-circuit`).
   */
  relays?: string[]
  /**
   * Other DHT nodes, each ending in `/p2p/<peer id>`: dialed at start and kept
   * connected like relays (dialed again whenever the connection drops), so
   * servers that list each other form one DHT. The node's own address may be
   * in the list (one list for every instance) and is skipped.
   */
  bootstrap?: string[]
  /** DHT protocol id (default `/chiral/kad/1.0.0`). */
  dhtProtocol?: string
  /**
   * Accept and hand out private and loopback addresses (LANs, test labs,
   * loopback). Off by default: the DHT then strips such addresses, and
   * browsers refuse to dial them.
   */
  allowPrivateAddresses?: boolean
  /** Where libp2p keeps DHT records and peer data (default: in memory). */
  datastore?: Datastore
  /** A libp2p metrics implementation, e.g. `prometheusMetrics()` from @libp2p/prometheus-metrics. */
  metrics?: Libp2pOptions['metrics']
  /** When a silent connection counts as dead (libp2p's connection monitor). */
  liveness?: LivenessInit
  /**
   * Peers and browsers: how the `reachability` service judges whether the
   * node is publicly dialable (AutoNAT v2 on peers; see presets/reachability.ts).
   */
  reachability?: ReachabilityInit
}

/** When a connection counts as dead (see `ConnectionLiveness`). */
export interface LivenessInit {
  /** A connection on which nothing arrived for this long is pinged, ms (default 10 s). */
  pingInterval?: number
  /** A quiet connection whose ping gets no answer within this long is aborted, ms (default 10 s). */
  pingTimeout?: number
}

export interface ServerNodeInit extends CommonNodeInit {
  role: 'server'
  relay?: RelayLimits
}

/**
 * libp2p's own WebRTC transport on a `peer` or `browser` node: off by
 * default. `true` uses libp2p's default ICE servers (public STUN); an object
 * gives the list (tests and labs pass their own, `[]` on loopback). When on,
 * the node also listens on `/webrtc`, so every relay reservation gives a
 * `<relay>/p2p-circuit/webrtc/p2p/<peer>` address other libp2p peers can dial.
 */
export type WebRTCSetting = boolean | {
  /** STUN/TURN servers for libp2p's peer connections. */
  iceServers?: RTCIceServer[]
}

/**
 * Direct TCP between Node peers behind NATs: libp2p's DCUtR protocol over
 * the relayed connection, then a TCP hole punch (a simultaneous open). Off
 * by default. When on, **every outbound TCP connection of the node leaves
 * from one local port** (`port`): that is what lets an endpoint-independent
 * NAT give the punch the same public address the relay observed. Nothing
 * may listen on that port (the node's own TCP listeners use others), and two
 * connections to the same remote address and port cannot exist at once.
 * Works across endpoint-independent-mapping NATs (full cone,
 * port-restricted), not from behind a symmetric NAT. See
 * `presets/direct-tcp/service.ts`.
 */
export type DirectTcpSetting = boolean | {
  /** The local port of outbound TCP (default: a free one in 20000–32767, picked at creation). */
  port?: number
  /** Time limit of one DCUtR exchange and its punch, ms (default 3000). */
  timeout?: number
  /** Exchanges per relayed connection before giving up (default 3). */
  attempts?: number
}

export interface PeerNodeInit extends CommonNodeInit {
  role: 'peer'
  /** libp2p's WebRTC transport (`/p2p-circuit/webrtc`); off by default. */
  webrtc?: WebRTCSetting
  /** Hole-punched direct TCP to other Node peers (DCUtR); off by default. The service is `services.dcutr`. */
  directTcp?: DirectTcpSetting
}

export interface BrowserNodeInit extends CommonNodeInit {
  role: 'browser'
  /** libp2p's WebRTC transport (`/p2p-circuit/webrtc`); off by default. */
  webrtc?: WebRTCSetting
}

export type NodeInit = ServerNodeInit | PeerNodeInit | BrowserNodeInit
