/**
 * @chiral/signaling: the WebSocket signaling server and the clients (WebSocket,
 * libp2p, hybrid) that implement core's `Signaling` contract.
 */
export * from './errors.js'
export * from './shared.js'
export { createSignalingServer, SignalingServer, CLOSE_CODES } from './server/signaling-server.js'
export type { SignalingServerEvents } from './server/signaling-server.js'
export type { SignalingServerInit, RateLimitInit } from './server/options.js'
export { DEFAULT_SIGNALING_PORT } from './server/options.js'
export type { SignalingServerStats } from './server/stats.js'
