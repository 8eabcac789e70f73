import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { connectionLiveness } from './connection-liveness.js'
import { dhtClientMapper } from './dht-contacts.js'
import { relayKeeper } from './relay-keeper.js'
import { relayRefusals } from './relay-refusals.js'
import { withRelaySlots } from './relay-slots.js'
import { DHT_PROTOCOL } from './options.js'
import type { CommonNodeInit } from './options.js'
import type { ReachabilityService } from './reachability.js'
import type { Identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Libp2pOptions } from 'libp2p'

/** Services every Chiral node has. */
export interface ChiralServices {
  identify: Identify
  ping: Ping
  dht: KadDHT
  /** Peers and browsers: whether others can dial the node directly (see presets/reachability.ts). */
  reachability?: ReachabilityService
  [name: string]: unknown
}

/** A libp2p node made by `createNode`. */
export type ChiralNode = Libp2p<ChiralServices>

/** Options every role shares: encryption, muxing, identity, DHT, relay upkeep. */
export function commonOptions (init: CommonNodeInit, clientMode: boolean, extraServices: Record<string, (components: any) => unknown> = {}): Libp2pOptions<ChiralServices> {
  const keep = [...(init.relays ?? []), ...(init.bootstrap ?? [])]
  const mapper = init.allowPrivateAddresses === true ? passthroughMapper : removePrivateAddressesMapper
  return {
    ...(init.privateKey === undefined ? {} : { privateKey: init.privateKey }),
    ...(init.datastore === undefined ? {} : { datastore: init.datastore }),
    ...(init.metrics === undefined ? {} : { metrics: init.metrics }),
    start: false,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.allowPrivateAddresses === true
      ? { connectionGater: { denyDialMultiaddr: async () => false } }
      : {}),
    connectionManager: {
      // Relays are tagged keep-alive: keep trying to get back to them.
      reconnectRetries: 1_000_000,
      reconnectRetryInterval: 1000,
      reconnectBackoffFactor: 1.5,
      // libp2p refuses more than 5 inbound connections per second from one
      // host. Every relayed connection to a peer or browser comes from its
      // relay's address, so a provider behind a relay would turn away the
      // 6th receiver (or path) in a second. Servers keep the default.
      ...(clientMode ? { inboundConnectionThreshold: 100 } : {})
    },
    // Replaced by connectionLiveness (a busy connection is alive; see there).
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      ping: ping(),
      liveness: connectionLiveness(init.liveness),
      dht: kadDHT({
        protocol: init.dhtProtocol ?? DHT_PROTOCOL,
        clientMode,
        // Run the first self-query at once: user queries wait for it, and it
        // completes as soon as the first DHT server enters the routing table.
        initialQuerySelfInterval: 0,
        // Clients: relayed peers never enter the routing table (see dhtClientMapper).
        peerInfoMapper: clientMode ? dhtClientMapper(mapper) : mapper
      }),
      ...(keep.length > 0 ? { relayKeeper: relayKeeper({ addrs: keep }) } : {}),
      // Peers and browsers: which relays refused them a reservation (read by waitForRelayReservation).
      ...(clientMode ? { relayRefusals: relayRefusals() } : {}),
      ...extraServices
    }
  }
}

/** Listen and announce addresses: the role's defaults, and one relay reservation per configured relay (see `withRelaySlots`). */
export function addresses (init: CommonNodeInit, defaults: string[]): NonNullable<Libp2pOptions['addresses']> {
  return {
    listen: withRelaySlots(init.listen ?? defaults, init.relays ?? []),
    ...(init.announce === undefined ? {} : { announce: init.announce })
  }
}
