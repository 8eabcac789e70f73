import { InvalidArgumentError, throwIfAborted } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { rtcConfiguration } from '../webrtc/ice-servers.js'
import { resolvePeerConnection } from '../webrtc/peer-connection.js'
import { newSessionId } from '../webrtc/session-id.js'
import { WebRTCSession } from '../webrtc/session.js'
import type { DataChannelMessageChannel } from '../channels/data-channel.js'
import type { IceConfig } from '../webrtc/ice-servers.js'
import type { RTCPeerConnectionConstructor } from '../webrtc/peer-connection.js'
import type { AbortOptions, PathDialer, PeerTarget, SignalEvent, Signaling, TransferMethod } from '@chiral/core'
import type { ComponentLogger, Logger } from '@libp2p/interface'

/** How long an attempt may take, from offer to open DataChannel, before it fails. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000

/** Dependencies of the WebRTC path (shared by the dialer and the listener). */
export interface WebRTCComponents {
  /** Carries offers, answers and candidates (WebSocket, libp2p or hybrid). */
  signaling: Signaling
  /** Default: the platform's (`globalThis.RTCPeerConnection`). In Node pass node-datachannel's polyfill. */
  RTCPeerConnection?: RTCPeerConnectionConstructor
  logger?: ComponentLogger
}

/** Settings of the WebRTC path (shared by the dialer and the listener). */
export interface WebRTCInit extends IceConfig {
  /** From offer to open DataChannel, in ms; ICE failure is reported at the latest then. Default 10 s. */
  connectTimeout?: number
  /** `send()` waits while more than this many bytes are queued in a channel. */
  highWaterMark?: number
  /** A waiting `send()` resumes once a channel's queue is down to this. */
  lowWaterMark?: number
  /**
   * The dialer's path name (default `webrtc`). Several WebRTC dialers with
   * their own names stripe one fetch over as many peer connections: each is
   * its own SCTP association with its own congestion window, which multiplies
   * a loss-limited rate (browsers cannot tune SCTP; this is their lever).
   */
  name?: string
  /**
   * How long a peer connection stays up after its last channel closed, so
   * the next fetch from that peer opens a channel on it instead of paying ICE
   * and DTLS again, ms (dialer default 30 s; the listener keeps its side
   * twice as long, so the dialer's close decides). 0: no reuse, a peer
   * connection per dial, closed with its channel.
   */
  idleTimeout?: number
  /** A new channel on an open peer connection that is not open within this long ends that connection (a fresh one is dialled), ms (default 5 s). */
  reuseOpenTimeout?: number
}

/** Default `idleTimeout` of the dialing side, ms. */
export const DEFAULT_IDLE_TIMEOUT = 30_000

/** The WebRTC path as a `PathDialer`: an RTCPeerConnection whose SDP and ICE go through `Signaling`. */
export class WebRTCPathDialer implements PathDialer {
  readonly name: string
  readonly method: TransferMethod = 'webrtc-direct'
  private readonly components: WebRTCComponents
  private readonly init: WebRTCInit
  private readonly log: Logger
  private readonly sessions = new Set<WebRTCSession>()
  /** The peer connection to reuse for each remote (the newest open one). */
  private readonly byRemote = new Map<string, WebRTCSession>()
  private created = 0

  constructor (components: WebRTCComponents, init: WebRTCInit = {}) {
    this.components = components
    this.init = init
    this.name = init.name ?? 'webrtc'
    this.log = componentLog(components, 'chiral:transport:webrtc')
    if (init.connectTimeout != null && !(init.connectTimeout > 0)) {
      throw new InvalidArgumentError('connectTimeout must be a positive number of ms')
    }
  }

  /** Attempts in progress or open, each owning one peer connection. */
  get openSessions (): number {
    return this.sessions.size
  }

  /** Peer connections this dialer has created so far (reused ones count once). */
  get peerConnectionsCreated (): number {
    return this.created
  }

  /**
   * Opens a DataChannel to `target.peerId` (its signaling id) whose label
   * and sub-protocol are `protocol`, the protocol the remote listener is to
   * serve on it: on the open peer connection to that peer when there is one
   * (one round trip), else on a new one. Rejects with `IceFailedError` when
   * ICE fails or nothing is open within `connectTimeout`, with `AbortError`
   * on abort; either way a new peer connection is closed.
   */
  async dial (target: PeerTarget, protocol: string, options: AbortOptions = {}): Promise<DataChannelMessageChannel> {
    throwIfAborted(options.signal)
    const open = this.byRemote.get(target.peerId)
    if (open !== undefined && (this.init.idleTimeout ?? DEFAULT_IDLE_TIMEOUT) > 0) {
      if (open.reusable) {
        try {
          const channel = await open.openChannel(protocol, this.init.reuseOpenTimeout ?? 5000, options.signal)
          this.log('new channel to %s on open session %s', target.peerId, open.id)
          return channel
        } catch (err) {
          if (options.signal?.aborted === true) throw err
          this.log('open session %s to %s gave no channel, dialing anew - %s', open.id, target.peerId, (err as Error).message)
        }
      } else if (open.channelCount === 0) {
        open.close()
      }
    }
    return this.connect(target, protocol, options)
  }

  private async connect (target: PeerTarget, protocol: string, options: AbortOptions): Promise<DataChannelMessageChannel> {
    const { signaling } = this.components
    const Ctor = resolvePeerConnection(this.components.RTCPeerConnection)
    const session = new WebRTCSession({
      role: 'offerer',
      remote: target.peerId,
      id: newSessionId(),
      signaling,
      pc: new Ctor(rtcConfiguration(this.init)),
      connectTimeout: this.init.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
      channel: channelSettings(this.init),
      idleTimeout: this.init.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
      log: this.log,
      onEnd: () => {
        this.sessions.delete(session)
        if (this.byRemote.get(target.peerId) === session) this.byRemote.delete(target.peerId)
        signaling.removeEventListener('signal', onSignal)
      }
    })
    this.created++
    const onSignal = (event: CustomEvent<SignalEvent>): void => {
      const { from, message } = event.detail
      if (from === session.remote && message.session === session.id) session.handle(message)
    }
    this.sessions.add(session)
    signaling.addEventListener('signal', onSignal)
    this.log('dialing %s for %s (session %s)', target.peerId, protocol, session.id)
    const channel = await session.dial(protocol, options.signal)
    this.byRemote.set(target.peerId, session)
    return channel
  }

  /** Closes every attempt in progress, every peer connection and every channel this dialer opened. */
  closeAll (): void {
    for (const session of [...this.sessions]) session.close()
  }
}

/** The WebRTC `PathDialer` (name `webrtc`, method `webrtc-direct`). */
export function createWebRTCPathDialer (components: WebRTCComponents, init?: WebRTCInit): WebRTCPathDialer {
  return new WebRTCPathDialer(components, init)
}

/** The channel settings within the path's settings. */
export function channelSettings (init: WebRTCInit): { highWaterMark?: number, lowWaterMark?: number } {
  const settings: { highWaterMark?: number, lowWaterMark?: number } = {}
  if (init.highWaterMark != null) settings.highWaterMark = init.highWaterMark
  if (init.lowWaterMark != null) settings.lowWaterMark = init.lowWaterMark
  return settings
}

/** The component's logger: from the injected ComponentLogger, else `@libp2p/logger` (DEBUG=chiral:*). */
export function componentLog (components: WebRTCComponents, name: string): Logger {
  return components.logger?.forComponent(name) ?? logger(name)
}
