import { NotStartedError } from '@chiral/core'
import { TypedEventEmitter } from 'main-event'
import { ProtocolNotServedError } from '../webrtc/errors.js'
import { rtcConfiguration } from '../webrtc/ice-servers.js'
import { resolvePeerConnection } from '../webrtc/peer-connection.js'
import { WebRTCSession } from '../webrtc/session.js'
import { DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, channelSettings, componentLog } from './webrtc.js'
import type { WebRTCComponents, WebRTCInit } from './webrtc.js'
import type { DataChannelMessageChannel } from '../channels/data-channel.js'
import type { IceCandidate, SignalEvent, SignalingRoute, Startable } from '@chiral/core'
import type { Logger } from '@libp2p/interface'

/** Who opened a channel, and for what. */
export interface WebRTCChannelInfo {
  /** The remote peer's signaling id. */
  from: string
  /** The DataChannel's sub-protocol: the protocol to serve on it. */
  protocol: string
  /** The connection attempt's id. */
  session: string
  /** The signaling route the offer came by. */
  route: SignalingRoute
  /** From the offer to this open channel, ms (the first channel of a connection only). */
  setupMs?: number
}

/** An offer arrived: an incoming direct-path attempt starts. */
export interface WebRTCOfferDetail {
  from: string
  session: string
  route: SignalingRoute
}

/** An incoming attempt failed: `setupMs` is how long it tried. */
export interface WebRTCSessionErrorDetail {
  from: string
  session: string
  error: Error
  setupMs: number
}

/** Serves one incoming channel; the handler owns it (and closes it when done). */
export type WebRTCChannelHandler = (channel: DataChannelMessageChannel, info: WebRTCChannelInfo) => void

export interface WebRTCListenerInit extends WebRTCInit {
  /** Offers accepted at once; more are ignored until some end. Default 64. */
  maxSessions?: number
}

export interface WebRTCListenerEvents {
  /** An offer was accepted: a peer connection is being set up. */
  'offer': CustomEvent<WebRTCOfferDetail>
  /** A channel was opened and handed to its protocol's handler. */
  'channel': CustomEvent<WebRTCChannelInfo>
  /** An incoming attempt failed (ICE failure, timeout, unserved protocol). */
  'session:error': CustomEvent<WebRTCSessionErrorDetail>
}

/** Candidates held for a session whose offer has not arrived (yet). */
interface EarlyCandidates {
  candidates: Array<IceCandidate | null>
  timer: ReturnType<typeof setTimeout>
}

const MAX_EARLY_SESSIONS = 256
const MAX_EARLY_CANDIDATES = 32

/**
 * The answering side of the WebRTC path: accepts offers arriving through
 * `Signaling`, connects, and hands each DataChannel to the handler of its
 * sub-protocol (see `handle()`). Channels for a protocol nobody handles are
 * closed. Candidates that overtake their offer are held (bounded, for at most
 * `connectTimeout`) and applied once it arrives.
 */
export class WebRTCListener extends TypedEventEmitter<WebRTCListenerEvents> implements Startable {
  private readonly components: WebRTCComponents
  private readonly init: WebRTCListenerInit
  private readonly log: Logger
  private readonly handlers = new Map<string, WebRTCChannelHandler>()
  private readonly sessions = new Map<string, WebRTCSession>()
  private readonly early = new Map<string, EarlyCandidates>()
  private started = false
  private created = 0

  constructor (components: WebRTCComponents, init: WebRTCListenerInit = {}) {
    super()
    this.components = components
    this.init = init
    this.log = componentLog(components, 'chiral:transport:webrtc:listener')
  }

  /** Attempts in progress or open, each owning one peer connection. */
  get openSessions (): number {
    return this.sessions.size
  }

  /** Peer connections accepted so far. */
  get peerConnectionsCreated (): number {
    return this.created
  }

  /** Serves channels whose sub-protocol is `protocol` with `handler` (replacing any previous one). */
  handle (protocol: string, handler: WebRTCChannelHandler): void {
    this.handlers.set(protocol, handler)
  }

  unhandle (protocol: string): void {
    this.handlers.delete(protocol)
  }

  async start (): Promise<void> {
    if (this.started) return
    resolvePeerConnection(this.components.RTCPeerConnection)
    this.started = true
    this.components.signaling.addEventListener('signal', this.onSignal)
  }

  /** Stops accepting offers, closes every attempt and every channel it accepted. */
  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.components.signaling.removeEventListener('signal', this.onSignal)
    for (const session of [...this.sessions.values()]) session.close()
    this.sessions.clear()
    for (const held of this.early.values()) clearTimeout(held.timer)
    this.early.clear()
  }

  private readonly onSignal = (event: CustomEvent<SignalEvent>): void => {
    const { from, message, route } = event.detail
    const id = message.session ?? ''
    const key = `${from}\n${id}`
    const session = this.sessions.get(key)
    if (session != null) {
      session.handle(message)
    } else if (message.type === 'offer') {
      this.accept(key, from, id, message.sdp, route)
    } else if (message.type === 'candidate') {
      this.holdEarly(key, message.candidate)
    }
  }

  private accept (key: string, from: string, id: string, sdp: string, route: SignalingRoute): void {
    if (!this.started) throw new NotStartedError()
    const maxSessions = this.init.maxSessions ?? 64
    if (this.sessions.size >= maxSessions) {
      this.log('ignoring an offer from %s: %d sessions open', from, this.sessions.size)
      return
    }
    const Ctor = resolvePeerConnection(this.components.RTCPeerConnection)
    const offeredAt = Date.now()
    const session: WebRTCSession = new WebRTCSession({
      role: 'answerer',
      remote: from,
      id,
      signaling: this.components.signaling,
      pc: new Ctor(rtcConfiguration(this.init)),
      connectTimeout: this.init.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
      channel: channelSettings(this.init),
      // The dialer's close decides: this side only outlives a dialer that vanished.
      idleTimeout: 2 * (this.init.idleTimeout ?? DEFAULT_IDLE_TIMEOUT),
      onChannel: (channel) => { this.serve(channel, { from, protocol: channel.protocol, session: id, route }) },
      log: this.log,
      onEnd: () => {
        if (this.sessions.get(key) === session) this.sessions.delete(key)
      }
    })
    this.created++
    this.sessions.set(key, session)
    const held = this.early.get(key)
    if (held != null) {
      clearTimeout(held.timer)
      this.early.delete(key)
      for (const candidate of held.candidates) session.handle({ type: 'candidate', candidate, session: id })
    }
    this.safeDispatchEvent('offer', { detail: { from, session: id, route } })
    session.accept(sdp).then((channel) => {
      this.serve(channel, { from, protocol: channel.protocol, session: id, route, setupMs: Date.now() - offeredAt })
    }, (error: Error) => {
      this.safeDispatchEvent('session:error', { detail: { from, session: id, error, setupMs: Date.now() - offeredAt } })
    })
  }

  /** Hands a channel to its protocol's handler (or refuses it). */
  private serve (channel: DataChannelMessageChannel, info: WebRTCChannelInfo): void {
    const handler = this.handlers.get(channel.protocol)
    if (handler == null) {
      const error = new ProtocolNotServedError(`No handler for ${channel.protocol}`)
      channel.abort(error)
      this.safeDispatchEvent('session:error', { detail: { from: info.from, session: info.session, error, setupMs: info.setupMs ?? 0 } })
      return
    }
    handler(channel, info)
    this.safeDispatchEvent('channel', { detail: info })
  }

  private holdEarly (key: string, candidate: IceCandidate | null): void {
    let held = this.early.get(key)
    if (held == null) {
      if (this.early.size >= MAX_EARLY_SESSIONS) return
      const timer = setTimeout(() => { this.early.delete(key) }, this.init.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT)
      held = { candidates: [], timer }
      this.early.set(key, held)
    }
    if (held.candidates.length < MAX_EARLY_CANDIDATES) held.candidates.push(candidate)
  }
}

/** The answering side of the WebRTC path. Call `start()`, then `handle(protocol, handler)`. */
export function createWebRTCListener (components: WebRTCComponents, init?: WebRTCListenerInit): WebRTCListener {
  return new WebRTCListener(components, init)
}
