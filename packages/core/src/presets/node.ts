import { yamux } from '@chainsafe/libp2p-yamux'
import { autoNATv2 } from '@libp2p/autonat-v2'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { InvalidArgumentError } from '../errors.js'
import { addresses, commonOptions } from './common.js'
import { directTcpParts } from './direct-tcp/preset.js'
import { DEFAULT_RELAY_LIMITS } from './options.js'
import { reachability } from './reachability.js'
import { rateLimitedRelay, relayStreamOptions } from './relay-rate-limit.js'
import { reportingRelayTransport } from './relay-refusals.js'
import { guardedRelay } from './relay-reservations.js'
import { webRTCTransports, withWebRTCListen } from './webrtc.js'
import type { ChiralNode } from './common.js'
import type { NodeInit, PeerNodeInit, RelayLimits, ServerNodeInit } from './options.js'
import type { LoadWebRTC } from './webrtc.js'
import type { CircuitRelayServerInit } from '@libp2p/circuit-relay-v2'

/** Default listen addresses of a `server`: TCP 4001 and WebSockets 4002 on all interfaces. */
export const SERVER_LISTEN = ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws']
/** Default listen addresses of a `peer`: any TCP port, plus relay reservations. */
export const PEER_LISTEN = ['/ip4/0.0.0.0/tcp/0', '/p2p-circuit']

/**
 * Creates a libp2p node configured for a role (not started: call `start()`).
 *
 * - `server`: TCP + WebSockets listeners, circuit-relay-v2 server with limits
 *   sized for files (and, when `relay.rateLimit` is set, a bandwidth cap per
 *   relayed connection), Kademlia DHT in server mode, an AutoNAT v2 server
 *   (dials peers back on the addresses they ask it to check). Run it where
 *   every peer can reach it.
 * - `peer`: TCP + WebSockets + circuit-relay transport; keeps connections to
 *   the configured relays and reserves a slot on them; DHT client. With
 *   `webrtc` set, also libp2p's WebRTC transport, listening on `/webrtc`.
 *   With `directTcp` set, outbound TCP from one port and the `dcutr`
 *   service: relayed connections to other such peers are upgraded to
 *   hole-punched direct TCP. AutoNAT v2 client and the `reachability`
 *   service: whether the node's direct addresses are publicly dialable.
 *
 * Browsers get the `browser` role through the package's browser build.
 */
export async function createNode (init: NodeInit): Promise<ChiralNode> {
  switch (init.role) {
    case 'server': return createServerNode(init)
    case 'peer': return createPeerNode(init)
    case 'browser': throw new InvalidArgumentError('The browser role needs the browser build of @chiral/core')
    default: throw new InvalidArgumentError(`Unknown node role "${String((init as { role?: unknown }).role)}"`)
  }
}

async function createServerNode (init: ServerNodeInit): Promise<ChiralNode> {
  const relay = circuitRelayServer(relayServerInit(init.relay ?? {}))
  const rate = init.relay?.rateLimit ?? DEFAULT_RELAY_LIMITS.rateLimit
  const capped = Number.isFinite(rate)
  const maxReservationsPerIp = init.relay?.maxReservationsPerIp ?? DEFAULT_RELAY_LIMITS.maxReservationsPerIp
  const guarded = guardedRelay(capped ? rateLimitedRelay(relay, rate) : relay, { maxReservationsPerIp })
  return createLibp2p({
    ...commonOptions(init, false, { relay: guarded, autoNAT: autoNATv2() }),
    ...(capped ? { streamMuxers: [yamux({ streamOptions: relayStreamOptions(rate) })] } : {}),
    addresses: addresses(init, SERVER_LISTEN),
    transports: [tcp(), webSockets(), reportingRelayTransport(circuitRelayTransport())]
  })
}

async function createPeerNode (init: PeerNodeInit): Promise<ChiralNode> {
  const addrs = withWebRTCListen(addresses(init, PEER_LISTEN), init.webrtc)
  const direct = init.directTcp === undefined || init.directTcp === false
    ? undefined
    : await directTcpParts(init.directTcp, addrs.listen ?? [], init.allowPrivateAddresses === true)
  return createLibp2p({
    ...commonOptions(init, true, {
      autoNAT: autoNATv2(),
      reachability: reachability(init.reachability),
      ...(direct === undefined ? {} : { dcutr: direct.service })
    }),
    addresses: addrs,
    transports: [direct?.transport ?? tcp(), webSockets(), reportingRelayTransport(circuitRelayTransport()), ...await webRTCTransports(init.webrtc, loadWebRTC)]
  })
}

/**
 * In Node, `@libp2p/webrtc` brings node-datachannel, a native module: it is
 * imported by name at run time, only by peers that turn WebRTC on, so that
 * bundlers leave it out (a single-file bundle cannot carry a native module,
 * and the `server` role never needs it).
 */
const loadWebRTC: LoadWebRTC = async () => {
  const specifier = '@libp2p/webrtc'
  return import(specifier) as ReturnType<LoadWebRTC>
}

/**
 * Turns Chiral's relay limits into circuit-relay-v2 server settings (all but
 * `rateLimit` and `maxReservationsPerIp`, which the library has no setting
 * for: see relay-rate-limit.ts and relay-reservations.ts).
 */
export function relayServerInit (limits: RelayLimits): CircuitRelayServerInit {
  const l = { ...DEFAULT_RELAY_LIMITS, ...limits }
  for (const [key, value] of Object.entries(l)) {
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      throw new InvalidArgumentError(`Relay limit ${key} must be a positive number, got ${String(value)}`)
    }
  }
  const unlimited = !Number.isFinite(l.dataLimit) && !Number.isFinite(l.durationLimit)
  return {
    reservations: {
      maxReservations: l.maxReservations,
      reservationTtl: l.reservationTtl,
      applyDefaultLimit: !unlimited,
      ...(Number.isFinite(l.dataLimit) ? { defaultDataLimit: BigInt(Math.floor(l.dataLimit)) } : { defaultDataLimit: 2n ** 62n }),
      ...(Number.isFinite(l.durationLimit) ? { defaultDurationLimit: Math.floor(l.durationLimit) } : { defaultDurationLimit: 2 ** 31 - 1 })
    }
  }
}
