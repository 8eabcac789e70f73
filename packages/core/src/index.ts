/**
 * @chiral/core for Node: contracts, content ids and manifests, provider
 * discovery, and libp2p node presets (`server`, `peer`).
 */
// Must stay first: libp2p needs Promise.withResolvers, which Node 20 lacks.
import './polyfill.js'

export * from './exports.js'
export { createNode, relayServerInit, SERVER_LISTEN, PEER_LISTEN } from './presets/node.js'
