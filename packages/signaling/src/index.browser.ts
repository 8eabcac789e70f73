/**
 * @chiral/signaling for browsers: the protocol and the clients (WebSocket,
 * libp2p, hybrid). The server is Node-only and lives in the Node entry.
 */
export * from './errors.js'
export * from './shared.js'
