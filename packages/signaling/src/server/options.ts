import { InvalidArgumentError } from '@chiral/core'
import type { SignalingClusterFactory } from './cluster/cluster.js'
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'

export interface RateLimitInit {
  /** Messages a client may send in one burst (bucket size). Default 100. */
  burst?: number
  /** Sustained messages per second (refill rate). Default 50. */
  perSecond?: number
}

/**
 * Settings of a signaling server. Give `server` to attach to an existing HTTP
 * server (WebSocket upgrades on `path`), or `port`/`host` to listen alone.
 */
export interface SignalingServerInit {
  /** An HTTP(S) server to attach to: the signaling server handles its `upgrade` events on `path`. */
  server?: HttpServer | HttpsServer
  /** Upgrade path when attached (default '/'; standalone servers accept any path). */
  path?: string
  /** Port to listen on when standalone (default 9000; 0 picks a free one). */
  port?: number
  /** Host to listen on when standalone (default '0.0.0.0'). */
  host?: string
  /** Largest accepted text frame in bytes; larger ones get `too-large` (default 64 KiB). */
  maxMessageBytes?: number
  /** Per-connection token bucket. */
  rateLimit?: RateLimitInit
  /** Open connections at most; more are closed with 1013 `server-full` (default 10,000). */
  maxClients?: number
  /** Heartbeat period in ms; clients silent for two periods are dropped (default 30 s). */
  heartbeatInterval?: number
  /**
   * Bytes that may wait in one client's send buffer. A message to a client
   * over the cap is dropped and its sender gets `buffer-full` (default 1 MiB).
   */
  maxSendBuffer?: number
  /** Accept ids that are not PeerIds, first come first served (default true). */
  allowAnonymous?: boolean
  /**
   * Share ids, rooms and signals with other instances, e.g.
   * `redisCluster({ url: 'redis://10.0.0.5:6379' })`. Default: this instance
   * alone (`localCluster()`), everything in memory.
   */
  cluster?: SignalingClusterFactory
}

export interface ResolvedServerOptions {
  path: string
  port: number
  host: string
  maxMessageBytes: number
  /** Frames above this close the connection with 1009 (ws' own limit). */
  hardMaxPayload: number
  burst: number
  perSecond: number
  maxClients: number
  heartbeatInterval: number
  maxSendBuffer: number
  allowAnonymous: boolean
}

export const DEFAULT_SIGNALING_PORT = 9000

export function resolveServerOptions (init: SignalingServerInit): ResolvedServerOptions {
  const o: ResolvedServerOptions = {
    path: init.path ?? '/',
    port: init.port ?? DEFAULT_SIGNALING_PORT,
    host: init.host ?? '0.0.0.0',
    maxMessageBytes: init.maxMessageBytes ?? 64 * 1024,
    hardMaxPayload: 0,
    burst: init.rateLimit?.burst ?? 100,
    perSecond: init.rateLimit?.perSecond ?? 50,
    maxClients: init.maxClients ?? 10_000,
    heartbeatInterval: init.heartbeatInterval ?? 30_000,
    maxSendBuffer: init.maxSendBuffer ?? 1024 * 1024,
    allowAnonymous: init.allowAnonymous ?? true
  }
  o.hardMaxPayload = Math.max(4 * o.maxMessageBytes, 256 * 1024)
  for (const key of ['maxMessageBytes', 'burst', 'perSecond', 'maxClients', 'heartbeatInterval', 'maxSendBuffer'] as const) {
    const v = o[key]
    if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`Signaling server option ${key} must be a positive number, got ${String(v)}`)
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new InvalidArgumentError(`Invalid port ${String(o.port)}`)
  if (!o.path.startsWith('/')) throw new InvalidArgumentError(`Path must start with '/', got ${o.path}`)
  return o
}
