import { byteStream } from '@libp2p/utils'
import type { LivenessInit } from './options.js'
import type { ComponentLogger, Connection, Logger, Startable, Stream } from '@libp2p/interface'

/** The ping protocol every Chiral node serves (@libp2p/ping). */
const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_BYTES = 32

export interface ConnectionLivenessComponents {
  logger: ComponentLogger
  connectionManager: { getConnections(): Connection[] }
}

/**
 * Decides when a connection is dead, instead of libp2p's connection monitor.
 *
 * libp2p pings every connection and aborts one whose ping is late; its
 * timeout adapts to all connections' pings together. On a connection busy
 * carrying chunks a ping waits behind megabytes queued in the muxer and in
 * TCP (a relay buffers a whole stream window toward a slow receiver): with
 * 1 % loss and CUBIC, pings took longer than any fixed bound worth having,
 * and libp2p aborted relayed transfers that were working.
 *
 * Here data is the proof of life: a connection on which a stream received
 * data since the last round is alive and not pinged. Only a quiet one is
 * pinged, and it is aborted when the ping fails and still nothing arrived.
 * A dead connection is so found within `pingInterval + pingTimeout`.
 *
 * Only streams someone already reads (a `message` listener) are watched: a
 * listener added to a stream nobody reads yet would take its first data
 * before its owner could.
 */
export class ConnectionLiveness implements Startable {
  private readonly components: ConnectionLivenessComponents
  private readonly interval: number
  private readonly timeout: number
  private readonly log: Logger
  private readonly lastData = new WeakMap<Connection, number>()
  private readonly watched = new WeakSet<Stream>()
  private readonly pinging = new WeakSet<Connection>()
  private readonly closingSince = new WeakMap<Connection, number>()
  private timer?: ReturnType<typeof setInterval>
  private controller?: AbortController

  constructor (components: ConnectionLivenessComponents, init: LivenessInit = {}) {
    this.components = components
    this.interval = init.pingInterval ?? 10_000
    this.timeout = init.pingTimeout ?? 10_000
    this.log = components.logger.forComponent('chiral:core:liveness')
  }

  readonly [Symbol.toStringTag] = 'chiral:connection-liveness'

  start (): void {
    this.controller = new AbortController()
    this.timer = setInterval(() => { this.round() }, Math.max(100, Math.floor(this.interval / 2)))
    this.timer.unref?.()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.controller?.abort()
    this.controller = undefined
  }

  /** Watches new streams; pings each connection quiet for a whole interval. */
  private round (now = Date.now()): void {
    for (const connection of this.components.connectionManager.getConnections()) {
      if (connection.status === 'closing') {
        this.hurryClose(connection, now)
        continue
      }
      if (connection.status !== 'open') continue
      this.watch(connection)
      if (!this.lastData.has(connection)) this.lastData.set(connection, now)
      if (now - (this.lastData.get(connection) ?? now) < this.interval || this.pinging.has(connection)) continue
      this.pinging.add(connection)
      void this.ping(connection).finally(() => { this.pinging.delete(connection) })
    }
  }

  /**
   * A graceful close waits for the remote; when the remote is gone it waits
   * forever and the connection (and whatever runs on it) lingers. One still
   * closing after `pingInterval + pingTimeout` is aborted.
   */
  private hurryClose (connection: Connection, now: number): void {
    const since = this.closingSince.get(connection)
    if (since === undefined) {
      this.closingSince.set(connection, now)
    } else if (now - since >= this.interval + this.timeout) {
      this.log('connection to %p still closing after %d ms, aborting it', connection.remotePeer, now - since)
      connection.abort(new Error(`Close did not finish within ${now - since} ms`))
    }
  }

  private watch (connection: Connection): void {
    for (const stream of connection.streams) {
      if (this.watched.has(stream) || stream.listenerCount('message') === 0) continue
      this.watched.add(stream)
      stream.addEventListener('message', () => { this.lastData.set(connection, Date.now()) })
    }
  }

  private async ping (connection: Connection): Promise<void> {
    const startedAt = Date.now()
    const parent = this.controller?.signal
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeout), ...(parent == null ? [] : [parent])])
    let stream: Stream | undefined
    try {
      stream = await connection.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true })
      const bytes = byteStream(stream)
      const sent = crypto.getRandomValues(new Uint8Array(PING_BYTES))
      await Promise.all([bytes.write(sent, { signal }), bytes.read({ bytes: PING_BYTES, signal })])
      this.lastData.set(connection, Date.now())
      await stream.close({ signal })
    } catch (err) {
      stream?.abort(err as Error)
      if ((err as Error).name === 'UnsupportedProtocolError') {
        // It answered the protocol negotiation: alive.
        this.lastData.set(connection, Date.now())
        return
      }
      if (parent?.aborted === true || connection.status !== 'open') return
      if ((this.lastData.get(connection) ?? 0) >= startedAt) {
        this.log('ping to %p was late but data arrived meanwhile - %s', connection.remotePeer, (err as Error).message)
        return
      }
      this.log('no data and no ping answer from %p for %d ms, aborting the connection - %s', connection.remotePeer, Date.now() - (this.lastData.get(connection) ?? startedAt), (err as Error).message)
      connection.abort(err as Error)
    }
  }
}

/** The liveness service for a node's `services`. */
export function connectionLiveness (init: LivenessInit = {}): (components: ConnectionLivenessComponents) => ConnectionLiveness {
  return (components) => new ConnectionLiveness(components, init)
}
