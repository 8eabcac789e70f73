import { createServer } from 'node:http'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { WebSocketServer } from 'ws'
import { ClientConnection } from './client-connection.js'
import { bridgeCluster } from './cluster-bridge.js'
import { localCluster } from './cluster/local-cluster.js'
import { MessageRouter } from './message-router.js'
import { resolveServerOptions } from './options.js'
import { Registry } from './registry.js'
import { emptyStats } from './stats.js'
import type { SignalingErrorCode } from '../errors.js'
import type { ClusterStatus, LocalRegistration, SignalingCluster } from './cluster/cluster.js'
import type { ResolvedServerOptions, SignalingServerInit } from './options.js'
import type { SignalingServerStats } from './stats.js'
import type { Startable } from '@chiral/core'
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'

const log = logger('chiral:signaling:server')

export interface SignalingServerEvents {
  /** A client registered (after its signature checked out, for PeerIds). */
  'peer:registered': CustomEvent<{ id: string, room: string | undefined, authenticated: boolean }>
  /** A registered client left (closed, dropped, replaced or server stopping). */
  'peer:unregistered': CustomEvent<{ id: string, room: string | undefined }>
  /** The server answered a frame with an error (or refused a connection: `server-full`). */
  'client:rejected': CustomEvent<{ code: SignalingErrorCode, id: string | undefined }>
  /** The cluster backend (Redis) connected, lost its connection, or published presence again. */
  'cluster:status': CustomEvent<ClusterStatus>
}

/** Close codes the server uses. */
export const CLOSE_CODES = {
  goingAway: 1001,
  policy: 1008,
  tooLarge: 1009,
  tryAgainLater: 1013,
  replaced: 4000,
  heartbeat: 4001
} as const

/**
 * The WebSocket signaling server: registers clients by id (anonymous or
 * PeerId-signed), tells rooms who joins and leaves, and forwards offers,
 * answers and candidates with a server-stamped `from`.
 *
 *     new ──start()──▶ running ──stop()──▶ stopped ──start()──▶ running
 */
export class SignalingServer extends TypedEventEmitter<SignalingServerEvents> implements Startable {
  private readonly options: ResolvedServerOptions
  private readonly attachTo: SignalingServerInit['server']
  private readonly connections = new Set<ClientConnection>()
  private registry = new Registry()
  private counters = emptyStats()
  private router: MessageRouter
  private wss: WebSocketServer | undefined
  private http: HttpServer | undefined
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private readonly cluster: SignalingCluster
  private detachCluster: (() => void) | undefined

  constructor (init: SignalingServerInit = {}) {
    super()
    this.options = resolveServerOptions(init)
    this.attachTo = init.server
    this.cluster = (init.cluster ?? localCluster())({ localRegistrations: () => this.localRegistrations() })
    this.router = this.makeRouter()
  }

  get running (): boolean {
    return this.wss !== undefined
  }

  async start (): Promise<void> {
    if (this.wss !== undefined) return
    this.registry = new Registry()
    this.router = this.makeRouter()
    this.detachCluster = bridgeCluster(this.cluster, {
      registry: () => this.registry,
      router: () => this.router,
      stats: this.counters,
      replaced: (conn) => {
        this.leave(conn, false)
        conn.close(CLOSE_CODES.replaced, 'replaced by a newer registration')
      },
      status: (status) => { this.safeDispatchEvent('cluster:status', { detail: status }) }
    })
    try {
      await this.cluster.start()
    } catch (err) {
      this.detachCluster()
      this.detachCluster = undefined
      throw err
    }
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.hardMaxPayload,
      perMessageDeflate: false,
      clientTracking: false
    })
    if (this.attachTo !== undefined) {
      this.attachTo.on('upgrade', this.onUpgrade)
    } else {
      const http = createServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket signaling: upgrade required\n')
      })
      http.on('upgrade', this.onUpgrade)
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject)
        http.listen(this.options.port, this.options.host, () => {
          http.off('error', reject)
          resolve()
        })
      })
      this.http = http
    }
    this.heartbeat = setInterval(this.beat, this.options.heartbeatInterval)
    this.heartbeat.unref?.()
    log('started %o', this.address() ?? 'attached')
  }

  /** Closes every client with 1001 and stops accepting connections. */
  async stop (): Promise<void> {
    const wss = this.wss
    if (wss === undefined) return
    this.wss = undefined
    clearInterval(this.heartbeat)
    this.attachTo?.off('upgrade', this.onUpgrade)
    // First, so other instances see this one's clients leave at once.
    await this.cluster.stop()
    this.detachCluster?.()
    this.detachCluster = undefined
    const closing = [...this.connections].map(async (conn) => new Promise<void>((resolve) => {
      if (conn.socket.readyState === conn.socket.CLOSED) { resolve(); return }
      const timer = setTimeout(() => { conn.socket.terminate(); resolve() }, 2000)
      conn.socket.once('close', () => { clearTimeout(timer); resolve() })
      conn.close(CLOSE_CODES.goingAway, 'server stopping')
    }))
    await Promise.all(closing)
    wss.close()
    const http = this.http
    this.http = undefined
    if (http !== undefined) {
      await new Promise<void>((resolve) => {
        http.close(() => { resolve() })
        http.closeAllConnections()
      })
    }
    log('stopped')
  }

  /** The listening address of a standalone server (undefined when attached or stopped). */
  address (): { host: string, port: number } | undefined {
    const a = this.http?.address()
    if (a == null || typeof a === 'string') return undefined
    return { host: a.address, port: a.port }
  }

  /** The cluster backend's state (`{ mode: 'local' }` without one). */
  clusterStatus (): ClusterStatus {
    return this.cluster.status()
  }

  /** A snapshot of the counters. */
  stats (): SignalingServerStats {
    return {
      ...this.counters,
      clients: this.connections.size,
      registered: this.registry.size,
      rooms: this.registry.roomCount,
      errors: { ...this.counters.errors }
    }
  }

  private makeRouter (): MessageRouter {
    return new MessageRouter(this.options, this.registry, this.counters, {
      registered: (id, room, authenticated) => {
        if (this.listenerCount('peer:registered') > 0) {
          this.safeDispatchEvent('peer:registered', { detail: { id, room, authenticated } })
        }
      },
      rejected: (code, conn) => {
        if (this.listenerCount('client:rejected') > 0) {
          this.safeDispatchEvent('client:rejected', { detail: { code, id: conn.id } })
        }
      }
    }, this.cluster)
  }

  private localRegistrations (): LocalRegistration[] {
    const regs: LocalRegistration[] = []
    for (const conn of this.registry.connections()) {
      if (conn.phase.name === 'registered') regs.push({ id: conn.phase.id, room: conn.phase.room, token: conn.token })
    }
    return regs
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const wss = this.wss
    if (wss === undefined) return
    if (this.attachTo !== undefined) {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
      if (pathname !== this.options.path) {
        // Another upgrade handler may own this path; refuse only when there is none.
        if (this.attachTo.listenerCount('upgrade') <= 1) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n')
        }
        return
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => { this.onConnection(ws) })
  }

  private onConnection (ws: WebSocket): void {
    if (this.connections.size >= this.options.maxClients) {
      this.counters.errors['server-full']++
      ws.send(JSON.stringify({ type: 'error', code: 'server-full', message: `${this.options.maxClients} clients connected` }))
      ws.close(CLOSE_CODES.tryAgainLater, 'server-full')
      if (this.listenerCount('client:rejected') > 0) {
        this.safeDispatchEvent('client:rejected', { detail: { code: 'server-full', id: undefined } })
      }
      return
    }
    const conn = new ClientConnection(ws, this.options, this.dropSlow)
    this.connections.add(conn)
    this.counters.connectionsTotal++
    ws.on('message', (data, isBinary) => {
      this.router.onFrame(conn, Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary)
    })
    ws.on('pong', () => { conn.lastSeen = Date.now() })
    ws.on('error', (err) => { log('client socket error %e', err) })
    ws.on('close', () => {
      this.connections.delete(conn)
      this.leave(conn, true)
    })
    conn.sendControl({ type: 'challenge', nonce: conn.nonce })
  }

  private readonly dropSlow = (conn: ClientConnection): void => {
    this.counters.slowClientsDropped++
    this.leave(conn, true)
    conn.socket.terminate()
  }

  /**
   * Takes a connection out of the registry at once (its close event may come
   * later) and, with `release`, gives its id back to the cluster.
   */
  private leave (conn: ClientConnection, release: boolean): void {
    const left = this.registry.remove(conn)
    conn.phase = { name: 'closed' }
    if (left === undefined) return
    if (release) this.cluster.release({ ...left, token: conn.token })
    if (this.listenerCount('peer:unregistered') > 0) {
      this.safeDispatchEvent('peer:unregistered', { detail: { id: left.id, room: left.room === '' ? undefined : left.room } })
    }
  }

  private readonly beat = (): void => {
    const silentSince = Date.now() - 2 * this.options.heartbeatInterval
    for (const conn of this.connections) {
      if (conn.lastSeen < silentSince) {
        this.counters.heartbeatTimeouts++
        this.leave(conn, true)
        conn.socket.terminate()
      } else if (conn.socket.readyState === conn.socket.OPEN) {
        conn.socket.ping()
      }
    }
  }
}

/** Creates a signaling server (not started: call `start()`). */
export function createSignalingServer (init: SignalingServerInit = {}): SignalingServer {
  return new SignalingServer(init)
}
