import { AbortError, InvalidArgumentError, NotStartedError, throwIfAborted } from '@chiral/core'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { SignalingQueueFullError, SignalingUnavailableError } from '../errors.js'
import { signChallenge } from '../protocol/auth.js'
import { parseServerMessage, toSignal } from '../protocol/messages.js'
import { backoffDelay } from './backoff.js'
import { canTransition } from './connection-state.js'
import { UrlRotation } from './url-rotation.js'
import { WS_OPEN } from './websocket-like.js'
import type { SignalingErrorCode } from '../errors.js'
import type { ServerMessage } from '../protocol/messages.js'
import type { BackoffInit } from './backoff.js'
import type { ConnectionState, ConnectionStatus } from './connection-state.js'
import type { PeerListStore } from './peer-list-store.js'
import type { WebSocketConstructor, WebSocketLike } from './websocket-like.js'
import type { AbortOptions, Signaling, SignalingEvents, SignalingRoute, SignalMessage } from '@chiral/core'
import type { PrivateKey } from '@libp2p/interface'

const log = logger('chiral:signaling:websocket')

export interface WebSocketSignalingInit {
  /** Server URL, e.g. `ws://127.0.0.1:9000/`. Give this or `urls` (or both: `url` is tried first). */
  url?: string
  /**
   * Several servers (e.g. each instance of a deployment), tried in order: when
   * the one in use dies or cannot be reached the client moves to the next at
   * once, and backs off only after a round over all of them failed.
   */
  urls?: string[]
  /** WebSocket constructor (default `globalThis.WebSocket`; in Node pass `ws`'s). */
  WebSocket?: WebSocketConstructor
  /** Register as this key's PeerId, signing the server's challenge. */
  privateKey?: PrivateKey
  /** Anonymous id when no `privateKey` is given (default: a random UUID). */
  id?: string
  /** Room to join (default: the server's default room). */
  room?: string
  /** Reconnect delays: exponential, full jitter, capped. */
  reconnect?: BackoffInit
  /** Heartbeat period, ms: a ping when idle; silence for two periods means reconnect (default 15 s). */
  heartbeatInterval?: number
  /** Connect + register must finish within this, ms (default 10 s). */
  connectTimeout?: number
  /** Messages kept while disconnected; more are refused (default 256). */
  maxQueue?: number
  /** Keeps the last peer list across restarts (e.g. `localStoragePeerListStore()`). */
  peerStore?: PeerListStore
}

export interface WebSocketSignalingEvents extends SignalingEvents {
  /** The full peer list of the room (after each registration, or loaded from the store). */
  peers: CustomEvent<string[]>
  'peer-joined': CustomEvent<string>
  'peer-left': CustomEvent<string>
  /** The connection changed state; `url` is the server tried or registered on (while backing off: tried next). */
  state: CustomEvent<WebSocketStateDetail>
  /** The server sent an error frame. */
  'server-error': CustomEvent<{ code: SignalingErrorCode, message: string }>
}

export interface WebSocketStateDetail {
  status: ConnectionStatus
  /** Rounds over the URLs that failed since the last registration. */
  attempt: number
  url?: string
  /** While backing off: until the next attempt, ms, and when it starts (ms since epoch). */
  delay?: number
  retryAt?: number
}

interface Pending {
  text: string
  resolve: (route: SignalingRoute) => void
  reject: (err: Error) => void
  signal?: AbortSignal
  onAbort?: () => void
}

/**
 * A `Signaling` client of the WebSocket signaling server, for browsers and
 * Node. Reconnects on its own until `stop()` (moving between servers when
 * given several, see `UrlRotation`), re-registers after each reconnect, and
 * queues a bounded number of messages while disconnected. States and
 * transitions: see `ConnectionState`.
 */
export class WebSocketSignaling extends TypedEventEmitter<WebSocketSignalingEvents> implements Signaling {
  readonly id: string
  private state: ConnectionState = { status: 'idle' }
  private readonly WS: WebSocketConstructor
  private readonly rotation: UrlRotation
  private readonly heartbeatInterval: number
  private readonly connectTimeout: number
  private readonly maxQueue: number
  private readonly queue: Pending[] = []
  private peerSet = new Set<string>()
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private lastHeard = 0
  private lastPing = 0
  private attempt = 0

  constructor (private readonly init: WebSocketSignalingInit) {
    super()
    const WS = init.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (WS === undefined) throw new InvalidArgumentError('No WebSocket constructor: pass one as init.WebSocket')
    this.WS = WS
    const urls = [...new Set([...(init.url === undefined ? [] : [init.url]), ...(init.urls ?? [])])]
    if (urls.length === 0) throw new InvalidArgumentError('No signaling server URL: pass url or urls')
    this.rotation = new UrlRotation(urls)
    this.id = init.privateKey !== undefined ? peerIdFromPrivateKey(init.privateKey).toString() : (init.id ?? globalThis.crypto.randomUUID())
    this.heartbeatInterval = init.heartbeatInterval ?? 15_000
    this.connectTimeout = init.connectTimeout ?? 10_000
    this.maxQueue = init.maxQueue ?? 256
  }

  /** The current lifecycle status. */
  get status (): ConnectionStatus {
    return this.state.status
  }

  /** Every server URL the client knows, in the order it tries them. */
  get urls (): string[] {
    return [...this.rotation.urls]
  }

  /** The server registered on (status `open`) or being tried; while backing off, the one tried next. */
  get url (): string | undefined {
    const s = this.state
    return s.status === 'connecting' || s.status === 'open' || s.status === 'backing-off' ? s.url : undefined
  }

  /** The other members of the room, as last reported. */
  get peers (): string[] {
    return [...this.peerSet]
  }

  async start (): Promise<void> {
    if (this.state.status !== 'idle' && this.state.status !== 'stopped') return
    const saved = await this.init.peerStore?.load()
    if (saved !== undefined) {
      this.peerSet = new Set(saved)
      this.safeDispatchEvent('peers', { detail: this.peers })
    }
    this.attempt = 0
    this.rotation.reset()
    this.heartbeat = setInterval(this.tick, Math.max(50, Math.floor(this.heartbeatInterval / 2)))
    this.connect()
  }

  async stop (): Promise<void> {
    if (this.state.status === 'stopped' || this.state.status === 'idle') {
      this.transition({ status: 'stopped' })
      return
    }
    clearInterval(this.heartbeat)
    this.dropSocket(1000, 'client stopping')
    this.transition({ status: 'stopped' })
    for (const p of this.queue.splice(0)) this.settle(p, new SignalingUnavailableError('Signaling client stopped'))
  }

  async send (to: string, message: SignalMessage, options: AbortOptions = {}): Promise<SignalingRoute> {
    throwIfAborted(options.signal)
    if (this.state.status === 'idle' || this.state.status === 'stopped') throw new NotStartedError('WebSocket signaling is not started')
    const text = JSON.stringify({ ...message, to })
    if (this.state.status === 'open' && this.queue.length === 0 && this.state.socket.readyState === WS_OPEN) {
      this.write(this.state.socket, text)
      return 'websocket'
    }
    if (this.queue.length >= this.maxQueue) throw new SignalingQueueFullError()
    return new Promise<SignalingRoute>((resolve, reject) => {
      const pending: Pending = { text, resolve, reject }
      if (options.signal !== undefined) {
        pending.signal = options.signal
        pending.onAbort = () => {
          const i = this.queue.indexOf(pending)
          if (i >= 0) this.queue.splice(i, 1)
          reject(new AbortError('Signaling send aborted', { cause: options.signal?.reason }))
        }
        options.signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      this.queue.push(pending)
    })
  }

  /** The one place where the state changes. */
  private transition (next: ConnectionState): void {
    const from = this.state.status
    if (!canTransition(from, next.status)) {
      throw new Error(`signaling client: illegal transition ${from} → ${next.status}`)
    }
    if (this.state.status === 'backing-off') clearTimeout(this.state.timer)
    this.state = next
    const attempt = next.status === 'connecting' || next.status === 'backing-off' ? next.attempt : 0
    const url = next.status === 'connecting' || next.status === 'open' || next.status === 'backing-off' ? { url: next.url } : {}
    log('%s → %s %s (attempt %d)', from, next.status, url.url ?? '', attempt)
    // While backing off, say when the next attempt starts (for a countdown).
    const retry = next.status === 'backing-off' ? { delay: next.delay, retryAt: Date.now() + next.delay } : {}
    this.safeDispatchEvent('state', { detail: { status: next.status, attempt, ...url, ...retry } })
  }

  private connect (): void {
    const url = this.rotation.current
    let socket: WebSocketLike
    try {
      socket = new this.WS(url)
    } catch (err) {
      log.error('cannot create WebSocket to %s %e', url, err)
      this.transition({ status: 'connecting', socket: closedSocket, url, attempt: this.attempt, since: Date.now() })
      this.failed()
      return
    }
    this.transition({ status: 'connecting', socket, url, attempt: this.attempt, since: Date.now() })
    this.lastHeard = Date.now()
    socket.onmessage = (event: { data: unknown }) => {
      if (this.currentSocket() !== socket) return
      this.lastHeard = Date.now()
      if (typeof event.data !== 'string') return
      const parsed = parseServerMessage(event.data)
      if (!parsed.ok) {
        log.error('unexpected frame from server: %s', parsed.reason)
        return
      }
      this.onServerMessage(socket, parsed.message)
    }
    socket.onclose = (event: { code?: number, reason?: string }) => {
      if (this.currentSocket() !== socket) return
      log('socket to %s closed %d %s', url, event.code, event.reason)
      this.failed()
    }
    socket.onerror = () => {}
  }

  private onServerMessage (socket: WebSocketLike, m: ServerMessage): void {
    switch (m.type) {
      case 'challenge':
        void this.register(socket, m.nonce)
        return
      case 'peers':
        if (this.state.status === 'connecting') {
          this.attempt = 0
          this.rotation.opened()
          this.transition({ status: 'open', socket, url: this.state.url })
          this.setPeers(m.peers)
          this.flush(socket)
        }
        return
      case 'peer-joined':
        this.peerSet.add(m.clientId)
        this.persist()
        this.safeDispatchEvent('peer-joined', { detail: m.clientId })
        return
      case 'peer-left':
        this.peerSet.delete(m.clientId)
        this.persist()
        this.safeDispatchEvent('peer-left', { detail: m.clientId })
        return
      case 'offer':
      case 'answer':
      case 'candidate':
        this.safeDispatchEvent('signal', { detail: { from: m.from, message: toSignal(m), route: 'websocket' } })
        return
      case 'pong':
        return
      case 'error':
        log('server error %s: %s', m.code, m.message)
        this.safeDispatchEvent('server-error', { detail: { code: m.code, message: m.message } })
        if (this.state.status === 'connecting') {
          // Registration refused (id-taken, auth-failed, …): try again later.
          this.dropSocket(4002, `registration refused: ${m.code}`)
          this.failed()
        }
    }
  }

  private async register (socket: WebSocketLike, nonce: string): Promise<void> {
    // `format` tells the server we speak this protocol, not the earlier design's.
    const frame: Record<string, string> = { type: 'register', clientId: this.id, format: 'chiral' }
    if (this.init.room !== undefined) frame.room = this.init.room
    if (this.init.privateKey !== undefined) Object.assign(frame, await signChallenge(this.init.privateKey, nonce))
    if (this.currentSocket() === socket && socket.readyState === WS_OPEN) this.write(socket, JSON.stringify(frame))
  }

  private setPeers (peers: string[]): void {
    this.peerSet = new Set(peers)
    this.persist()
    this.safeDispatchEvent('peers', { detail: this.peers })
  }

  private persist (): void {
    void Promise.resolve(this.init.peerStore?.save(this.peers)).catch(() => {})
  }

  private write (socket: WebSocketLike, text: string): void {
    socket.send(text)
  }

  private flush (socket: WebSocketLike): void {
    for (const p of this.queue.splice(0)) {
      try {
        this.write(socket, p.text)
        this.settle(p)
      } catch (err) {
        this.settle(p, err as Error)
      }
    }
  }

  private settle (p: Pending, err?: Error): void {
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort)
    if (err === undefined) p.resolve('websocket')
    else p.reject(err)
  }

  private currentSocket (): WebSocketLike | undefined {
    return this.state.status === 'connecting' || this.state.status === 'open' ? this.state.socket : undefined
  }

  /** Detaches and closes the current socket, if any. */
  private dropSocket (code: number, reason: string): void {
    const socket = this.currentSocket()
    if (socket === undefined) return
    socket.onmessage = null
    socket.onclose = null
    socket.onopen = null
    try {
      socket.close(code, reason)
    } catch {}
  }

  /**
   * The server tried or registered on failed: the next URL at once while
   * the round has one left, else a backoff before the next round.
   */
  private failed (): void {
    if (this.state.status === 'stopped' || this.state.status === 'backing-off') return
    this.dropSocket(4003, 'reconnecting')
    if (this.rotation.fail()) {
      this.backOff()
    } else {
      this.connect()
    }
  }

  private backOff (): void {
    const delay = backoffDelay(this.attempt, this.init.reconnect)
    const attempt = this.attempt
    this.attempt++
    const timer = setTimeout(() => {
      if (this.state.status === 'backing-off') this.connect()
    }, delay)
    this.transition({ status: 'backing-off', url: this.rotation.current, attempt, delay, timer })
  }

  private readonly tick = (): void => {
    const now = Date.now()
    if (this.state.status === 'connecting' && now - this.state.since > this.connectTimeout) {
      log('connect to %s timed out', this.state.url)
      this.failed()
    } else if (this.state.status === 'open') {
      if (now - this.lastHeard > 2 * this.heartbeatInterval) {
        log('server %s silent for two heartbeats', this.state.url)
        this.failed()
      } else if (now - this.lastHeard >= this.heartbeatInterval && now - this.lastPing >= this.heartbeatInterval && this.state.socket.readyState === WS_OPEN) {
        this.lastPing = now
        this.write(this.state.socket, JSON.stringify({ type: 'ping', ts: now }))
      }
    }
  }
}

const closedSocket: WebSocketLike = {
  readyState: 3,
  bufferedAmount: 0,
  send: () => {},
  close: () => {},
  onopen: null,
  onmessage: null,
  onclose: null,
  onerror: null
}

/** Creates a WebSocket signaling client (not started: call `start()`). */
export function createWebSocketSignaling (init: WebSocketSignalingInit): WebSocketSignaling {
  return new WebSocketSignaling(init)
}
