import { NotStartedError, createManifest, encodeManifest, parseContentId } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { libp2pStreamChannel } from '../channels/libp2p-stream.js'
import { methodOfConnection } from '../paths/connection-method.js'
import { TRANSFER_PROTOCOL } from '../protocol/constants.js'
import { encodeError } from '../protocol/messages.js'
import { PeerSessions } from './peer-sessions.js'
import { serveSession } from './serve-session.js'
import { DEFAULT_MAX_SESSIONS_PER_PEER, PROVIDER_INBOUND } from './session-limits.js'
import type { ContentSource, OpenSource } from './content-source.js'
import type { ChunkHook, ServeSessionStats, SharedContent } from './serve-session.js'
import type { SessionLimits } from './session-limits.js'
import type { AbortOptions, ContentId, Manifest, ManifestProgress, MessageChannel, Startable } from '@chiral/core'
import type { Libp2p, Logger } from '@libp2p/interface'

/** Dependencies of a provider. */
export interface ProviderComponents {
  /** When set, `start()` registers the transfer protocol handler on it. */
  node?: Pick<Libp2p, 'handle' | 'unhandle'> & { logger?: Libp2p['logger'] }
}

/** Settings of a provider. */
export interface ProviderInit {
  /** Protocol id to serve (default `/chiral/transfer/1.0.0`). */
  protocol?: string
  /** Concurrent inbound transfer streams per connection (default 32). */
  maxInboundStreams?: number
  /** Fault-injection seam for tests: see `ChunkHook`. */
  chunkHook?: ChunkHook
  /**
   * Concurrent sessions of one remote peer, across all its connections and
   * paths (default 8). More are refused with `too-many-sessions`.
   */
  maxSessionsPerPeer?: number
  /** A session with nothing to send and no request for this long is closed, ms (default 30 s). */
  idleTimeout?: number
  /** Chunks one session may have requested and not yet received (default 64). */
  maxOutstanding?: number
  /** One message that cannot be sent for this long ends its session, ms (default 120 s). */
  sendTimeout?: number
}

export interface ShareOptions extends AbortOptions {
  /** Name carried in the manifest (default: the file's or Blob's name, else `file`). */
  name?: string
  /** Bytes per chunk (default 1 MiB). */
  chunkSize?: number
  /** Progress of hashing the content. */
  onProgress?: (progress: ManifestProgress) => void
}

export interface SessionEventDetail {
  /** This provider's id for the session, unique while it runs. */
  id: number
  /** How the session's bytes travel. */
  method: string
  /** The receiving peer, when the channel's path knows it. */
  peerId?: string
  /** The content id the receiver opened (from `session:content` on). */
  cid?: string
  /** When the session started (ms since epoch). */
  startedAt: number
  /** What it sent (on `session:close`). */
  stats?: ServeSessionStats
}

export interface ProviderEvents {
  'session:open': CustomEvent<SessionEventDetail>
  /** The receiver asked for a content id on the session. */
  'session:content': CustomEvent<SessionEventDetail>
  'session:close': CustomEvent<SessionEventDetail>
  /** A session was refused: its peer already holds `maxSessionsPerPeer`. */
  'session:refused': CustomEvent<SessionEventDetail>
}

export interface ServeOptions extends AbortOptions {
  /** The receiving peer, for the session events. */
  peerId?: string
}

/**
 * Serves shared content over /chiral/transfer/1.0.0.
 *
 *   idle ──start()──► started ──stop()──► idle
 *
 * `share()` works in any state (it hashes the content into a manifest);
 * `serve(channel)` runs one session on any message channel, and when a libp2p
 * node is given, `start()` also answers the protocol on it (relayed
 * connections included: `runOnLimitedConnection`). `stop()` ends every
 * session and closes the shared files; shared content stays registered.
 */
export class Provider<Input = never> extends TypedEventEmitter<ProviderEvents> implements Startable {
  readonly protocol: string
  private readonly components: ProviderComponents
  private readonly init: ProviderInit
  private readonly openSource: OpenSource<Input>
  private readonly shared = new Map<string, SharedContent>()
  private readonly log: Logger
  private controller?: AbortController
  private readonly sessions = new Set<Promise<unknown>>()
  private sessionCount = 0
  private readonly peerSessions: PeerSessions
  private readonly limits: Partial<SessionLimits>

  constructor (components: ProviderComponents, init: ProviderInit, openSource: OpenSource<Input>) {
    super()
    this.components = components
    this.init = init
    this.openSource = openSource
    this.protocol = init.protocol ?? TRANSFER_PROTOCOL
    this.peerSessions = new PeerSessions(Math.max(1, init.maxSessionsPerPeer ?? DEFAULT_MAX_SESSIONS_PER_PEER))
    this.limits = {
      ...(init.idleTimeout === undefined ? {} : { idleTimeout: init.idleTimeout }),
      ...(init.maxOutstanding === undefined ? {} : { maxOutstanding: init.maxOutstanding }),
      ...(init.sendTimeout === undefined ? {} : { sendTimeout: init.sendTimeout })
    }
    this.log = components.node?.logger?.forComponent('chiral:transport:provider') ?? logger('chiral:transport:provider')
  }

  get started (): boolean {
    return this.controller != null
  }

  async start (): Promise<void> {
    if (this.controller != null) return
    this.controller = new AbortController()
    const node = this.components.node
    if (node != null) {
      await node.handle(this.protocol, async (stream, connection) => {
        const channel = libp2pStreamChannel(stream, { method: methodOfConnection(connection), ...PROVIDER_INBOUND })
        await this.serve(channel, { peerId: connection.remotePeer.toString() }).catch((err: Error) => { this.log.error('session failed - %e', err) })
      }, { runOnLimitedConnection: true, maxInboundStreams: this.init.maxInboundStreams ?? 32 })
    }
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller == null) return
    this.controller = undefined
    await this.components.node?.unhandle(this.protocol).catch(() => {})
    controller.abort()
    await Promise.allSettled([...this.sessions])
    await Promise.allSettled([...this.shared.values()].map(async (c) => c.source.close()))
  }

  /**
   * Shares content: hashes it once into a manifest (streaming, memory does
   * not grow with the size) and serves it until `unshare()`. Node accepts a
   * file path; every platform accepts a Blob/File or a `ContentSource`.
   */
  async share (input: Input | Blob | ContentSource, options: ShareOptions = {}): Promise<Manifest> {
    const source = await this.openSource(input, options)
    const name = options.name ?? source.name
    const manifest = await createManifest(source.stream(), {
      ...(name === undefined ? {} : { name }),
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress })
    })
    const key = manifest.cid.toString()
    const previous = this.shared.get(key)
    this.shared.set(key, { manifest, encodedManifest: encodeManifest(manifest), source })
    if (previous != null && previous.source !== source) await previous.source.close()
    this.log('sharing %s (%d bytes) as %s', manifest.name, manifest.size, key)
    return manifest
  }

  /** Stops serving a content id (sessions already open on it fail their next requests). */
  async unshare (cid: ContentId | string): Promise<void> {
    const key = parseContentId(cid).toString()
    const content = this.shared.get(key)
    this.shared.delete(key)
    await content?.source.close()
  }

  /** Content ids currently shared. */
  get sharedIds (): ContentId[] {
    return [...this.shared.values()].map((c) => c.manifest.cid)
  }

  /** Runs one provider session on `channel` until the receiver ends it. */
  async serve (channel: MessageChannel, options: ServeOptions = {}): Promise<ServeSessionStats> {
    const controller = this.controller
    if (controller == null) throw new NotStartedError('Provider is not started')
    const signal = options.signal == null ? controller.signal : AbortSignal.any([controller.signal, options.signal])
    const detail: SessionEventDetail = {
      id: ++this.sessionCount,
      method: channel.method,
      ...(options.peerId === undefined ? {} : { peerId: options.peerId }),
      startedAt: Date.now()
    }
    const peerId = options.peerId
    if (peerId !== undefined && !this.peerSessions.acquire(peerId)) {
      this.log('refusing a session of %s: it holds %d already', peerId, this.peerSessions.count(peerId))
      this.safeDispatchEvent('session:refused', { detail: { ...detail } })
      await refuse(channel, `Peer ${peerId} has too many sessions open`)
      return { chunks: 0, bytes: 0 }
    }
    this.safeDispatchEvent('session:open', { detail: { ...detail } })
    const session = serveSession(channel, {
      limits: this.limits,
      lookup: (cid) => this.shared.get(cid.toString()),
      log: this.log,
      signal,
      onOpen: (cid) => {
        detail.cid = cid
        this.safeDispatchEvent('session:content', { detail: { ...detail } })
      },
      ...(this.init.chunkHook == null ? {} : { chunkHook: this.init.chunkHook })
    })
    this.sessions.add(session)
    try {
      const stats = await session
      this.safeDispatchEvent('session:close', { detail: { ...detail, stats } })
      return stats
    } finally {
      this.sessions.delete(session)
      if (peerId !== undefined) this.peerSessions.release(peerId)
    }
  }
}

/** Answers a channel with a session-wide `too-many-sessions` error and closes it, without reading. */
async function refuse (channel: MessageChannel, message: string): Promise<void> {
  try {
    await channel.send(encodeError(undefined, 'too-many-sessions', message), { signal: AbortSignal.timeout(1000) })
    await channel.close({ signal: AbortSignal.timeout(1000) })
  } catch {}
  channel.abort(new Error(message))
}
