import { randomBytes } from 'node:crypto'
import { createNonce } from '../protocol/auth.js'
import { EarlierFormatFrames } from './earlier-format.js'
import { TokenBucket } from './token-bucket.js'
import type { SignalingErrorCode } from '../errors.js'
import type { ServerMessage } from '../protocol/messages.js'
import type { WireFormat } from './earlier-format.js'
import type { ResolvedServerOptions } from './options.js'
import type { WebSocket } from 'ws'

/**
 * Where a connection stands:
 *
 *     unregistered ──register──▶ registering ──ok──▶ registered
 *          ▲                         │ failed             │
 *          └─────────────────────────┘                    │
 *     (any) ──socket closed / replaced / stopped──▶ closed ◀┘
 */
export type ConnectionPhase =
  | { name: 'unregistered' }
  | { name: 'registering' }
  | { name: 'registered', id: string, room: string }
  | { name: 'closed' }

/** Random per process, so registration tokens stay unique across restarts under one instance id. */
const PROCESS_TAG = randomBytes(6).toString('base64url')
let serial = 0

/** One client's WebSocket on the server, with its challenge, rate limit and liveness. */
export class ClientConnection {
  phase: ConnectionPhase = { name: 'unregistered' }
  /** Tells this connection's registration from another of the same id (in a cluster). */
  readonly token = `${PROCESS_TAG}.${++serial}`
  /** Last time anything (frame or pong) arrived, ms since epoch. */
  lastSeen = Date.now()
  readonly nonce = createNonce()
  readonly bucket: TokenBucket
  /** Set for a client served the earlier design's format (see `useFormat`). */
  private earlier: EarlierFormatFrames | undefined

  constructor (
    readonly socket: WebSocket,
    private readonly options: ResolvedServerOptions,
    private readonly onSlow: (conn: ClientConnection) => void
  ) {
    this.bucket = new TokenBucket(options.burst, options.perSecond)
  }

  get id (): string | undefined {
    return this.phase.name === 'registered' ? this.phase.id : undefined
  }

  get format (): WireFormat {
    return this.earlier === undefined ? 'chiral' : 'earlier'
  }

  /** Serves this client `format` from now on (decided by its `register`). */
  useFormat (format: WireFormat): void {
    if (format === this.format) return
    this.earlier = format === 'earlier' ? new EarlierFormatFrames() : undefined
  }

  /**
   * Sends a frame the client must not miss (its own replies, peer deltas). A
   * client that lets twice the send-buffer cap pile up is dropped as too slow
   * rather than buffered without bound.
   */
  sendControl (message: ServerMessage): void {
    this.sendControlText(JSON.stringify(message))
  }

  /** `sendControl` for a frame already serialised (one delta sent to a whole room). */
  sendControlText (text: string): void {
    if (this.phase.name === 'closed' || this.socket.readyState !== this.socket.OPEN) return
    if (this.socket.bufferedAmount > 2 * this.options.maxSendBuffer) {
      this.onSlow(this)
      return
    }
    if (this.earlier === undefined) {
      this.socket.send(text)
      return
    }
    for (const frame of this.earlier.control(text)) this.socket.send(frame)
  }

  /**
   * Sends a forwarded frame unless this client's send buffer is over the cap.
   * `from` is the format the sender is served, which decides the form of
   * `sdp` an earlier-format receiver gets.
   */
  trySendForward (text: string, from: WireFormat = 'chiral'): boolean {
    if (this.phase.name === 'closed' || this.socket.readyState !== this.socket.OPEN) return false
    if (this.socket.bufferedAmount > this.options.maxSendBuffer) return false
    this.socket.send(this.earlier === undefined ? text : this.earlier.forward(text, from))
    return true
  }

  sendError (code: SignalingErrorCode, message: string): void {
    this.sendControl({ type: 'error', code, message })
  }

  /** Closes with a code and reason; the connection counts as closed at once. */
  close (code: number, reason: string): void {
    this.phase = { name: 'closed' }
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason)
    }
  }
}
