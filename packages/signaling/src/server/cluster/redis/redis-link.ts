import type { ResolvedRedisClusterOptions } from './options.js'
import type { Redis, RedisOptions } from 'ioredis'

/** What the link reports to its owner. */
export interface RedisLinkHandlers {
  /** Both connections are ready and every wanted channel is subscribed. */
  up(): void
  /** A connection was lost (or could not be made); `error` is the last error seen. */
  down(error: string): void
  message(channel: string, text: string): void
}

/**
 * The two Redis connections of one instance: `cmd` for scripts and
 * publishes, `sub` for subscriptions (a subscribed connection takes no other
 * commands). Both reconnect on their own, forever, with capped exponential
 * delays. Commands fail at once while a connection is down (no offline
 * queue): the server must not wait on Redis to route locally.
 *
 * Subscriptions are re-made by the link itself on every `ready`, before it
 * reports `up`, so nothing published after `up` is missed.
 */
export class RedisLink {
  private cmdConn: Redis | undefined
  private subConn: Redis | undefined
  private subReady = false
  /** Channels to be subscribed whenever the subscriber connects. */
  private readonly wanted = new Set<string>()
  /** Subscriptions sent on the current subscriber connection, settled once Redis acknowledged them. */
  private readonly acked = new Map<string, Promise<void>>()
  private lastError = 'not connected'
  private closing = false

  constructor (private readonly options: ResolvedRedisClusterOptions, private readonly handlers: RedisLinkHandlers) {}

  /** The command connection while it is ready. */
  get cmd (): Redis | undefined {
    return this.cmdConn?.status === 'ready' ? this.cmdConn : undefined
  }

  get up (): boolean {
    return this.cmd !== undefined && this.subReady && this.subConn?.status === 'ready'
  }

  async open (): Promise<void> {
    // ioredis is loaded on first use: a server without a cluster never loads it.
    const { Redis } = await import('ioredis')
    this.closing = false
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      commandTimeout: this.options.commandTimeout,
      connectTimeout: Math.max(this.options.commandTimeout, 2000),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), this.options.reconnectMaxDelay),
      connectionName: `chiral-signaling-${this.options.instanceId}`.replace(/[^\x21-\x7e]/g, '_')
    }
    const cmd = new Redis(this.options.url, options)
    const sub = new Redis(this.options.url, options)
    this.cmdConn = cmd
    this.subConn = sub
    for (const conn of [cmd, sub]) {
      conn.on('error', (err: Error) => { this.lastError = err.message })
      conn.on('close', () => { this.onClose(conn) })
    }
    cmd.on('ready', () => { if (this.up) this.handlers.up() })
    sub.on('ready', () => { void this.resubscribe(sub) })
    sub.on('message', (channel: string, text: string) => { this.handlers.message(channel, text) })
  }

  /** Adds a channel to those subscribed on every connect. */
  want (channel: string): void {
    this.wanted.add(channel)
  }

  /**
   * Resolves once Redis acknowledged the subscription of `channel` (at once
   * when it already did); rejects while the subscriber is not connected.
   */
  async subscribe (channel: string): Promise<void> {
    this.wanted.add(channel)
    let acked = this.acked.get(channel)
    if (acked === undefined) {
      const sub = this.subConn
      if (sub === undefined || !this.subReady || sub.status !== 'ready') throw new Error('subscriber not connected')
      acked = sub.subscribe(channel).then(() => {})
      acked.catch(() => { if (this.acked.get(channel) === acked) this.acked.delete(channel) })
      this.acked.set(channel, acked)
    }
    return acked
  }

  unsubscribe (channel: string): void {
    if (!this.wanted.delete(channel)) return
    this.acked.delete(channel)
    if (this.subReady && this.subConn?.status === 'ready') this.subConn.unsubscribe(channel).catch(() => {})
  }

  channels (): string[] {
    return [...this.wanted]
  }

  /** Drops both connections and reconnects (after a command timed out on a connection that looks open). */
  reconnect (): void {
    this.cmdConn?.disconnect(true)
    this.subConn?.disconnect(true)
  }

  async close (): Promise<void> {
    this.closing = true
    const conns = [this.cmdConn, this.subConn]
    this.cmdConn = undefined
    this.subConn = undefined
    this.subReady = false
    this.wanted.clear()
    this.acked.clear()
    await Promise.all(conns.map(async (conn) => {
      if (conn === undefined) return
      if (conn.status !== 'ready') { conn.disconnect(); return }
      await conn.quit().catch(() => { conn.disconnect() })
    }))
  }

  private async resubscribe (sub: Redis): Promise<void> {
    this.acked.clear()
    try {
      const channels = [...this.wanted]
      if (channels.length > 0) {
        const acked = sub.subscribe(...channels).then(() => {})
        for (const channel of channels) this.acked.set(channel, acked)
        await acked
      }
    } catch (err) {
      this.acked.clear()
      this.lastError = (err as Error).message
      sub.disconnect(true)
      return
    }
    if (sub !== this.subConn || sub.status !== 'ready') return
    this.subReady = true
    if (this.up) this.handlers.up()
  }

  private onClose (conn: Redis): void {
    if (this.closing || (conn !== this.cmdConn && conn !== this.subConn)) return
    if (conn === this.subConn) {
      this.subReady = false
      this.acked.clear()
    }
    this.handlers.down(this.lastError)
  }
}
