import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { InvalidArgumentError } from '../errors.js'
import { addresses, commonOptions } from './common.js'
import { reachability } from './reachability.js'
import { reportingRelayTransport } from './relay-refusals.js'
import { webRTCTransports, withWebRTCListen } from './webrtc.js'
import type { ChiralNode } from './common.js'
import type { NodeInit } from './options.js'

/** Default listen addresses of a browser: relay reservations only. */
export const BROWSER_LISTEN = ['/p2p-circuit']

/**
 * Creates a libp2p node for a browser (not started: call `start()`):
 * WebSockets + circuit-relay transport, DHT client, connections kept to the
 * configured relays with a reserved slot on each. With `webrtc` set, also
 * libp2p's WebRTC transport (the browser's RTCPeerConnection), listening on
 * `/webrtc`.
 *
 * The `reachability` service without an AutoNAT client: a browser listens on
 * nothing a dial-back could reach, so it is `private` (`relay-only`) at once.
 * (@libp2p/autonat-v2 does bundle for browsers, but all it could ask a
 * server to dial back are the relay circuit addresses, which the relay
 * listener already marks verified, and each ask costs 30–100 kB of upload.)
 */
export async function createNode (init: NodeInit): Promise<ChiralNode> {
  if (init.role !== 'browser') {
    throw new InvalidArgumentError(`The ${String(init.role)} role runs in Node only; browsers use the "browser" role`)
  }
  return createLibp2p({
    ...commonOptions(init, true, { reachability: reachability(init.reachability) }),
    addresses: withWebRTCListen(addresses(init, BROWSER_LISTEN), init.webrtc),
    transports: [webSockets(), reportingRelayTransport(circuitRelayTransport()), ...await webRTCTransports(init.webrtc, async () => import('@libp2p/webrtc'))]
  })
}
