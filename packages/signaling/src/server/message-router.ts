import { parsePeerId, verifyChallenge } from '../protocol/auth.js'
import { parseClientMessage } from '../protocol/messages.js'
import { wireFormatOf } from './earlier-format.js'
import { DEFAULT_ROOM } from './registry.js'
import type { SignalingErrorCode } from '../errors.js'
import type { ForwardMessage, RegisterMessage } from '../protocol/messages.js'
import type { ClientConnection } from './client-connection.js'
import type { SignalingCluster } from './cluster/cluster.js'
import type { ResolvedServerOptions } from './options.js'
import type { Registry } from './registry.js'
import type { SignalingServerStats } from './stats.js'

/** What the router reports back to the server that owns it. */
export interface RouterHooks {
  registered(id: string, room: string | undefined, authenticated: boolean): void
  rejected(code: SignalingErrorCode, conn: ClientConnection): void
}

/** Frame close code for a connection whose id was taken over by a newer signed registration. */
export const CLOSE_REPLACED = 4000

/**
 * Handles every frame of every client: rate limit, size, schema, then the
 * message kind. Each rejected frame gets exactly one error frame.
 */
export class MessageRouter {
  constructor (
    private readonly options: ResolvedServerOptions,
    private readonly registry: Registry,
    private readonly stats: SignalingServerStats,
    private readonly hooks: RouterHooks,
    private readonly cluster: SignalingCluster
  ) {}

  onFrame (conn: ClientConnection, data: Buffer, isBinary: boolean): void {
    conn.lastSeen = Date.now()
    this.stats.messagesReceived++
    if (conn.phase.name === 'closed') return
    if (!conn.bucket.take()) {
      this.reject(conn, 'rate-limited', `more than ${this.options.perSecond} messages/s`)
      return
    }
    if (isBinary) {
      this.reject(conn, 'bad-message', 'binary frames are not supported')
      return
    }
    if (data.length > this.options.maxMessageBytes) {
      this.reject(conn, 'too-large', `frame of ${data.length} bytes exceeds ${this.options.maxMessageBytes}`)
      return
    }
    const parsed = parseClientMessage(data.toString('utf8'))
    if (!parsed.ok) {
      this.reject(conn, 'bad-message', parsed.reason)
      return
    }
    const m = parsed.message
    switch (m.type) {
      case 'ping':
        conn.sendControl({ type: 'pong', ts: m.ts })
        return
      case 'register':
        if (conn.phase.name === 'unregistered') conn.useFormat(wireFormatOf(m))
        void this.register(conn, m)
        return
      case 'offer':
      case 'answer':
      case 'candidate':
        this.forward(conn, m)
    }
  }

  /** Sends `conn` an error frame and counts it. */
  reject (conn: ClientConnection, code: SignalingErrorCode, message: string): void {
    this.stats.errors[code]++
    conn.sendError(code, message)
    this.hooks.rejected(code, conn)
  }

  private forward (conn: ClientConnection, m: ForwardMessage): void {
    const from = conn.id
    if (from === undefined) {
      this.reject(conn, 'not-registered', 'register before sending signals')
      return
    }
    const session = m.session === undefined ? {} : { session: m.session }
    const frame = m.type === 'candidate'
      ? { type: m.type, from, candidate: m.candidate, ...session }
      : { type: m.type, from, sdp: m.sdp, ...session }
    const target = this.registry.get(m.to)
    if (target === undefined) {
      if (!this.cluster.shared) {
        this.reject(conn, 'unknown-peer', `no client "${m.to}" is registered`)
        return
      }
      // Held by another instance, or by nobody: the cluster knows. Signals
      // from one sender leave in order on one Redis connection, so a
      // candidate never overtakes its offer.
      void this.cluster.forward(m.to, from, JSON.stringify(frame)).then((outcome) => {
        if (outcome !== 'sent') this.reject(conn, 'unknown-peer', `no client "${m.to}" is registered`)
      })
      return
    }
    if (!target.trySendForward(JSON.stringify(frame), conn.format)) {
      this.reject(conn, 'buffer-full', `"${m.to}" is not reading; message dropped`)
      return
    }
    this.stats.messagesRouted++
  }

  private async register (conn: ClientConnection, m: RegisterMessage): Promise<void> {
    if (conn.phase.name !== 'unregistered') {
      this.reject(conn, 'bad-message', conn.phase.name === 'registering' ? 'registration in progress' : 'already registered')
      return
    }
    const peerId = parsePeerId(m.clientId)
    if (peerId === undefined && !this.options.allowAnonymous) {
      this.reject(conn, 'auth-failed', 'this server accepts only PeerIds with a signed challenge')
      return
    }
    if (peerId !== undefined) {
      if (m.signature === undefined) {
        this.reject(conn, 'auth-failed', 'a PeerId registration must sign the challenge')
        return
      }
      conn.phase = { name: 'registering' }
      const ok = await verifyChallenge(peerId, conn.nonce, m.signature, m.publicKey)
      if (conn.phase.name !== 'registering') return // closed meanwhile
      conn.phase = { name: 'unregistered' }
      if (!ok) {
        this.reject(conn, 'auth-failed', 'the signature does not match the PeerId and challenge')
        return
      }
    }
    const room = m.room ?? DEFAULT_ROOM
    const existing = this.registry.get(m.clientId)
    if (existing !== undefined && peerId === undefined) {
      this.reject(conn, 'id-taken', `"${m.clientId}" is registered by another connection`)
      return
    }
    if (this.cluster.shared) {
      await this.claim(conn, m, room, peerId !== undefined)
      return
    }
    this.admit(conn, m, room, peerId !== undefined)
  }

  /** Claims the id across the cluster before admitting the connection. */
  private async claim (conn: ClientConnection, m: RegisterMessage, room: string, signed: boolean): Promise<void> {
    conn.phase = { name: 'registering' }
    const reg = { id: m.clientId, room, token: conn.token }
    const outcome = await this.cluster.claim(reg, signed)
    if (conn.phase.name !== 'registering') {
      // Closed meanwhile: give the id back.
      if (outcome.kind === 'claimed') this.cluster.release(reg)
      return
    }
    conn.phase = { name: 'unregistered' }
    // An anonymous id claimed on this instance while ours was in flight (the cluster down).
    const taken = outcome.kind === 'taken' || (!signed && this.registry.get(m.clientId) !== undefined)
    if (taken) {
      if (outcome.kind === 'claimed') this.cluster.release(reg)
      this.reject(conn, 'id-taken', `"${m.clientId}" is registered by another connection`)
      return
    }
    if (outcome.kind === 'claimed') this.registry.reconcile(room, outcome.members, outcome.version, m.clientId)
    this.admit(conn, m, room, signed)
  }

  /** Registers a connection whose id is free (or taken over by its signed owner). */
  private admit (conn: ClientConnection, m: RegisterMessage, room: string, signed: boolean): void {
    const existing = this.registry.get(m.clientId)
    let peers: string[]
    if (existing === undefined) {
      peers = this.registry.add(conn, m.clientId, room)
    } else {
      // Only the key's owner can sign: the live connection is stale.
      peers = this.registry.replace(existing, conn, m.clientId, room)
      existing.close(CLOSE_REPLACED, 'replaced by a newer registration')
    }
    this.stats.registered = this.registry.size
    this.stats.rooms = this.registry.roomCount
    conn.sendControl({ type: 'peers', peers })
    this.hooks.registered(m.clientId, m.room, signed)
  }
}
