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
export { localCluster, LocalCluster } from './server/cluster/local-cluster.js'
export type { SignalingCluster, SignalingClusterFactory, SignalingClusterEvents, ClusterComponents, ClusterStatus, ClusterState, ClaimOutcome, ForwardOutcome, LocalRegistration, RemoteMember } from './server/cluster/cluster.js'
export { redisCluster, RedisCluster } from './server/cluster/redis/redis-cluster.js'
export type { RedisClusterInit } from './server/cluster/redis/options.js'
export { DEFAULT_PRESENCE_TTL, redactRedisUrl } from './server/cluster/redis/options.js'
