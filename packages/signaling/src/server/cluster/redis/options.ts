import { randomBytes } from 'node:crypto'
import { InvalidArgumentError } from '@chiral/core'
import { clientIdSchema } from '../../../protocol/messages.js'

/** Settings of the Redis cluster backend. */
export interface RedisClusterInit {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS. The
   * password (or ACL user and password) goes in the URL.
   */
  url: string
  /** Prefix of every key and channel, so several deployments can share one Redis (default `chiral:`). */
  keyPrefix?: string
  /**
   * How long, in ms, an instance's clients stay listed after it stops
   * refreshing them (default 15 s). Use the same value on every instance.
   */
  presenceTtl?: number
  /** This instance's name in Redis; unique per running process (default: random). */
  instanceId?: string
  /** Longest wait between reconnect attempts, ms (default 2 s). */
  reconnectMaxDelay?: number
  /** A Redis command that takes longer fails (and the instance counts as disconnected), ms (default 2 s). */
  commandTimeout?: number
}

export interface ResolvedRedisClusterOptions {
  url: string
  keyPrefix: string
  presenceTtl: number
  /** Presence refresh and sweep period: a third of the expiry. */
  refreshInterval: number
  instanceId: string
  reconnectMaxDelay: number
  commandTimeout: number
}

export const DEFAULT_PRESENCE_TTL = 15_000

export function resolveRedisClusterOptions (init: RedisClusterInit): ResolvedRedisClusterOptions {
  let url: URL
  try {
    url = new URL(init.url)
  } catch {
    throw new InvalidArgumentError('The Redis URL is not a URL (redis://[user:password@]host:6379 or rediss://…)')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidArgumentError(`Redis URL must start with redis:// or rediss://, got ${url.protocol}//`)
  }
  const o: ResolvedRedisClusterOptions = {
    url: init.url,
    keyPrefix: init.keyPrefix ?? 'chiral:',
    presenceTtl: init.presenceTtl ?? DEFAULT_PRESENCE_TTL,
    refreshInterval: 0,
    instanceId: init.instanceId ?? randomBytes(8).toString('hex'),
    reconnectMaxDelay: init.reconnectMaxDelay ?? 2000,
    commandTimeout: init.commandTimeout ?? 2000
  }
  for (const key of ['presenceTtl', 'reconnectMaxDelay', 'commandTimeout'] as const) {
    const v = o[key]
    if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`Redis cluster option ${key} must be a positive number, got ${String(v)}`)
  }
  if (o.presenceTtl < 300) throw new InvalidArgumentError(`presenceTtl must be at least 300 ms, got ${o.presenceTtl}`)
  if (!clientIdSchema.safeParse(o.instanceId).success) {
    throw new InvalidArgumentError(`instanceId must be 1-128 visible ASCII characters, got "${o.instanceId}"`)
  }
  if (!/^[\x21-\x7e]{0,64}$/.test(o.keyPrefix)) throw new InvalidArgumentError(`keyPrefix must be at most 64 visible ASCII characters, got "${o.keyPrefix}"`)
  o.refreshInterval = Math.max(100, Math.floor(o.presenceTtl / 3))
  return o
}

/** The URL without its password, for logs and /health. */
export function redactRedisUrl (text: string): string {
  try {
    const url = new URL(text)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return '(invalid URL)'
  }
}
