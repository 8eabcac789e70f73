import { AbortError } from '@chiral/core'
import { DataChannelMessageChannel } from '../channels/data-channel.js'
import { CandidateQueue } from './candidate-queue.js'
import { channelOpen } from './channel-open.js'
import { IceFailedError, PeerConnectionLostError } from './errors.js'
import { closePeerConnection } from './peer-connection.js'
import { candidateToWire, withoutCandidates } from './sdp.js'
import type { DataChannelMessageChannelInit } from '../channels/data-channel.js'
import type { SignalMessage, Signaling } from '@chiral/core'
import type { Logger } from '@libp2p/interface'

export type WebRTCRole = 'offerer' | 'answerer'

/**
 * How long an offerer that has applied the answer waits for a first
 * candidate of the answerer before sending its own anyway (see
 * `WebRTCSession`), ms.
 */
export const OFFERER_CANDIDATE_HOLD_MS = 250

export interface WebRTCSessionInit {
  role: WebRTCRole
  /** The remote peer's signaling id. */
  remote: string
  /** The attempt's id, carried in every SignalMessage of it. */
  id: string
  signaling: Signaling
  /** A fresh peer connection; the session owns it and closes it when done. */
  pc: RTCPeerConnection
  /** Time from start to an open DataChannel before the attempt fails, in ms. */
  connectTimeout: number
  /** Settings of the resulting channel (`peerConnection` and `onClose` are the session's). */
  channel?: Omit<DataChannelMessageChannelInit, 'peerConnection' | 'onClose'>
  log: Logger
  /**
   * How long the peer connection stays up once its last channel has closed,
   * for the next channel to the same peer, ms (0: closed with its last
   * channel).
   */
  idleTimeout?: number
  /** Answerer: a channel the offerer opened after the first one. */
  onChannel?: (channel: DataChannelMessageChannel) => void
  /** Called once when the session is over (failed, aborted, or idle after its last channel). */
  onEnd?: () => void
}

/**
 * Session lifecycle:
 *
 * ```
 *  connecting ──DataChannel open──► open ──last channel closed, idle for idleTimeout──► ended
 *      │                             │ ▲ more channels (openChannel / the offerer's)      ▲
 *      │                             └─┴─ a channel aborted / pc fails / close() ─────────┤
 *      └── ICE failed / timeout / abort / signaling error ────────────────────────────────┘
 * ```
 * In every way out the peer connection is closed and `onEnd` runs once. Each
 * channel decides when it is safely closed (its in-band fin/ack handshake).
 */
type SessionState =
  | { status: 'connecting' }
  | { status: 'open', channels: Set<DataChannelMessageChannel>, opening: number, idleTimer?: ReturnType<typeof setTimeout> }
  | { status: 'ended' }

/**
 * One WebRTC connection attempt between two peers, either side: trickles
 * local candidates through `Signaling`, applies the remote description and
 * candidates (queued until the description is set), and turns the first
 * DataChannel into a `MessageChannel`.
 *
 * When local candidates go out: the answerer's once its answer is sent, the
 * offerer's only once it has applied the answer AND handed ICE a first
 * candidate of the answerer (or after `OFFERER_CANDIDATE_HOLD_MS` without
 * one). Two reasons, both seen with node-datachannel:
 *
 * 1. Until the offerer has applied the answer the answerer cannot reach it,
 *    so no ICE check arrives at an offerer that has not finished taking in
 *    the answer. libdatachannel hands a remote description to ICE before it
 *    stores it for the DTLS fingerprint check, and when the remote's checks
 *    are already waiting, ICE and the whole DTLS handshake can complete in
 *    that gap; the certificate is then checked against no fingerprint and
 *    refused ("unknown CA" / "certificate verify failed"), which failed
 *    about one in five back-to-back dials on a fast link.
 * 2. The offerer (the DTLS server, standard roles) must reach ICE
 *    "connected" before the answerer (the DTLS client) does. A DTLS packet
 *    that arrives before the server's ICE is connected waits in
 *    libdatachannel until the next one comes, which is the client's
 *    retransmission after OpenSSL's 1-second timer: about one setup in
 *    eight took ≈ 1 s. A controlled ICE agent (libjuice) only counts as
 *    connected once its own check, paced ~50 ms after the remote's first
 *    check, succeeds. So the offerer checks first: it learns the answerer's
 *    candidates before the answerer learns its own, its check reaches the
 *    answerer first, and it is connected one round trip later; the
 *    answerer, and its first ClientHello, follow.
 *
 * The offer and answer carry no candidates for the same reason: every
 * candidate goes by trickle.
 */
export class WebRTCSession {
  readonly role: WebRTCRole
  readonly remote: string
  readonly id: string
  private state: SessionState = { status: 'connecting' }
  private readonly pc: RTCPeerConnection
  private readonly queue: CandidateQueue
  private readonly signaling: Signaling
  private readonly log: Logger
  private readonly init: WebRTCSessionInit
  /** Local candidates held until the descriptions are in place (see the class comment). */
  private outgoing: Array<SignalMessage> | undefined = []
  /** Offerer: what releasing its candidates waits for (see the class comment). */
  private readonly releaseGate = { answerApplied: false, remoteCandidate: false }
  private releaseTimer: ReturnType<typeof setTimeout> | undefined
  /** DataChannels already wrapped (an event about one seen twice is ignored). */
  private readonly adopted = new WeakSet<RTCDataChannel>()
  /** The last channel to close broke (see `reusable`). */
  private suspect = false
  private settle?: { resolve(channel: DataChannelMessageChannel): void, reject(err: Error): void }

  constructor (init: WebRTCSessionInit) {
    this.init = init
    this.role = init.role
    this.remote = init.remote
    this.id = init.id
    this.pc = init.pc
    this.signaling = init.signaling
    this.log = init.log
    this.queue = new CandidateQueue(this.pc, (err) => { this.log.trace('remote candidate rejected: %e', err) }, () => {
      this.releaseGate.remoteCandidate = true
      this.releaseOffererCandidates()
    })
    this.pc.addEventListener('icecandidate', this.onLocalCandidate)
    this.pc.addEventListener('connectionstatechange', this.onConnectionState)
    if (this.role === 'answerer') this.pc.addEventListener('datachannel', this.onDataChannel)
  }

  get status (): SessionState['status'] {
    return this.state.status
  }

  /**
   * Open, its peer connection connected, and not left idle by a channel that
   * broke (a silent path is often a dead one the peer connection has not
   * noticed yet): fit for another channel.
   */
  get reusable (): boolean {
    if (this.state.status !== 'open' || this.pc.connectionState !== 'connected') return false
    return !(this.suspect && this.state.channels.size === 0)
  }

  /** Channels open on it now. */
  get channelCount (): number {
    return this.state.status === 'open' ? this.state.channels.size : 0
  }

  /**
   * Offerer, once open: another DataChannel for `protocol` on the same peer
   * connection (no new ICE or DTLS: one round trip). Rejects, and ends the
   * session, when it is not open within `timeout` ms: the connection under it
   * is likely dead.
   */
  async openChannel (protocol: string, timeout: number, signal?: AbortSignal): Promise<DataChannelMessageChannel> {
    if (this.state.status !== 'open' || this.role !== 'offerer') throw new PeerConnectionLostError(`No open peer connection to ${this.remote}`)
    const state = this.state
    clearTimeout(state.idleTimer)
    state.idleTimer = undefined
    const dc = this.pc.createDataChannel(protocol, { ordered: true, protocol })
    state.opening++
    const outcome = await channelOpen(dc, timeout, signal).catch((err: Error) => err)
    state.opening--
    if (outcome === 'open' && this.state.status === 'open') return this.adopt(dc)
    dc.close()
    if (outcome instanceof Error) {
      this.idleCheck()
      throw outcome
    }
    const err = new PeerConnectionLostError(outcome === 'timeout'
      ? `A new channel to ${this.remote} did not open within ${timeout} ms`
      : `Peer connection to ${this.remote} ended`)
    if (outcome === 'timeout') this.close(err)
    throw err
  }

  /** Remote candidates waiting for the remote description. */
  get queuedCandidates (): number {
    return this.queue.size
  }

  /**
   * Offerer: opens a DataChannel for `protocol`, sends the offer, and resolves
   * with the channel once it is open.
   */
  async dial (protocol: string, signal?: AbortSignal): Promise<DataChannelMessageChannel> {
    const opened = this.connecting(signal)
    try {
      const dc = this.pc.createDataChannel(protocol, { ordered: true, protocol })
      this.watchChannel(dc)
      const offer = await this.pc.createOffer()
      await this.pc.setLocalDescription(offer)
      await this.signaling.send(this.remote, { type: 'offer', sdp: withoutCandidates(offer.sdp ?? this.pc.localDescription?.sdp ?? ''), session: this.id })
    } catch (err) {
      this.fail(toError(err))
    }
    return opened
  }

  // The descriptions sent are the ones created, not `pc.localDescription`: with
  // node-datachannel the latter may already hold some gathered candidates, and
  // an answer carrying them intermittently fails on the offerer ("remote
  // candidate without ICE transport"). Candidates travel by trickle only.
  //
  // DTLS roles are the standard ones (the answerer is the DTLS client). Making
  // the offerer the client (`offerWithOffererAsDtlsClient`) saved a second in
  // some setups while the offerer's candidates went out with its offer, but it
  // puts the DTLS check on the side exposed to the race described above.

  /** Answerer: applies the remote offer, sends the answer, resolves with the offered channel once open. */
  async accept (offerSdp: string, signal?: AbortSignal): Promise<DataChannelMessageChannel> {
    const opened = this.connecting(signal)
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp })
      this.queue.flush()
      const answer = await this.pc.createAnswer()
      await this.pc.setLocalDescription(answer)
      await this.signaling.send(this.remote, { type: 'answer', sdp: withoutCandidates(answer.sdp ?? this.pc.localDescription?.sdp ?? ''), session: this.id })
      this.releaseCandidates()
    } catch (err) {
      this.fail(toError(err))
    }
    return opened
  }

  /** A SignalMessage from the remote peer for this session. */
  handle (message: SignalMessage): void {
    if (this.state.status === 'ended') return
    if (message.type === 'candidate') {
      this.queue.add(message.candidate)
    } else if (message.type === 'answer' && this.role === 'offerer') {
      this.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp })
        .then(() => {
          // Only now may the answerer learn where we are, and only once we
          // are checking its candidates, or after a while (see the class comment).
          this.releaseGate.answerApplied = true
          this.queue.flush()
          if (this.state.status === 'connecting' && this.outgoing != null) {
            this.releaseTimer = setTimeout(() => {
              this.releaseGate.remoteCandidate = true
              this.releaseOffererCandidates()
            }, OFFERER_CANDIDATE_HOLD_MS)
          }
          this.releaseOffererCandidates()
        })
        .catch((err: unknown) => { this.fail(toError(err)) })
    } else {
      this.log.trace('ignoring %s for %s session %s', message.type, this.role, this.id)
    }
  }

  /** Ends the session at once: its channels are aborted, the peer connection closed. */
  close (err: Error = new AbortError('WebRTC session closed')): void {
    if (this.state.status === 'open') {
      const channels = [...this.state.channels]
      this.end(err)
      for (const channel of channels) channel.abort(err)
    } else {
      this.fail(err)
    }
  }

  private async connecting (signal?: AbortSignal): Promise<DataChannelMessageChannel> {
    return new Promise<DataChannelMessageChannel>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new IceFailedError(`No WebRTC connection to ${this.remote} within ${this.init.connectTimeout} ms`, 'timeout'))
      }, this.init.connectTimeout)
      const onAbort = (): void => { this.fail(new AbortError(undefined, { cause: signal?.reason })) }
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.settle = undefined
      }
      this.settle = {
        resolve: (channel) => { done(); resolve(channel) },
        reject: (err) => { done(); reject(err) }
      }
      if (signal?.aborted === true) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Offerer: releases its candidates once the answer is applied and ICE has a remote candidate. */
  private releaseOffererCandidates (): void {
    if (this.role !== 'offerer' || !this.releaseGate.answerApplied || !this.releaseGate.remoteCandidate) return
    this.releaseCandidates()
  }

  /** Sends the local candidates held so far; later ones go out as they come. */
  private releaseCandidates (): void {
    clearTimeout(this.releaseTimer)
    this.releaseTimer = undefined
    if (this.state.status !== 'connecting') return
    const held = this.outgoing ?? []
    this.outgoing = undefined
    for (const m of held) this.sendCandidate(m)
  }

  private sendCandidate (message: SignalMessage): void {
    this.signaling.send(this.remote, message).catch((err: unknown) => {
      this.log.trace('sending a candidate to %s failed: %e', this.remote, err)
    })
  }

  private readonly onLocalCandidate = (event: RTCPeerConnectionIceEvent): void => {
    if (this.state.status !== 'connecting') return
    const message: SignalMessage = {
      type: 'candidate',
      candidate: event.candidate == null ? null : candidateToWire(event.candidate),
      session: this.id
    }
    if (this.outgoing != null) this.outgoing.push(message)
    else this.sendCandidate(message)
  }

  private readonly onConnectionState = (): void => {
    const state = this.pc.connectionState
    if (state !== 'failed' && state !== 'closed') return
    if (this.state.status === 'open') {
      // Closed by the remote: clean if its side had finished (each channel tells).
      const channels = [...this.state.channels]
      this.end(state === 'closed' ? undefined : new PeerConnectionLostError(`Peer connection to ${this.remote} failed`))
      for (const channel of channels) {
        if (state === 'closed') channel.transportEnded()
        else channel.abort(new PeerConnectionLostError(`Peer connection to ${this.remote} failed`))
      }
    } else {
      this.fail(new IceFailedError(`WebRTC connection to ${this.remote} ${state}`, state))
    }
  }

  private readonly onDataChannel = (event: RTCDataChannelEvent): void => {
    if (this.state.status === 'ended') {
      event.channel.close()
      return
    }
    this.watchChannel(event.channel)
  }

  private watchChannel (dc: RTCDataChannel): void {
    const open = (): void => {
      dc.removeEventListener('open', open)
      this.opened(dc)
    }
    if (dc.readyState === 'open') open()
    else dc.addEventListener('open', open)
  }

  private opened (dc: RTCDataChannel): void {
    if (this.adopted.has(dc)) return
    if (this.state.status === 'ended') {
      dc.close()
      return
    }
    if (this.state.status === 'open') {
      // The offerer opened another channel on this connection.
      const channel = this.adopt(dc)
      if (this.init.onChannel == null) channel.abort(new PeerConnectionLostError('No handler for another channel'))
      else this.init.onChannel(channel)
      return
    }
    this.state = { status: 'open', channels: new Set(), opening: 0 }
    const channel = this.adopt(dc)
    this.log('%s session %s with %s open, max message %d', this.role, this.id, this.remote, channel.maxMessageSize)
    this.settle?.resolve(channel)
  }

  /** Wraps an open DataChannel of this session and counts it. */
  private adopt (dc: RTCDataChannel): DataChannelMessageChannel {
    const state = this.state
    if (state.status !== 'open') throw new PeerConnectionLostError(`Peer connection to ${this.remote} ended`)
    clearTimeout(state.idleTimer)
    state.idleTimer = undefined
    const channel: DataChannelMessageChannel = new DataChannelMessageChannel(dc, {
      ...this.init.channel,
      peerConnection: this.pc,
      onClose: ({ error }) => {
        state.channels.delete(channel)
        // A broken channel says the connection may be broken too (other channels may still use it).
        if (error != null) this.suspect = true
        this.idleCheck()
      }
    })
    state.channels.add(channel)
    this.adopted.add(dc)
    this.suspect = false
    return channel
  }

  /** With no channel left: ends now, or after `idleTimeout` unless another channel comes. */
  private idleCheck (): void {
    const state = this.state
    if (state.status !== 'open' || state.channels.size > 0 || state.opening > 0) return
    const idle = this.init.idleTimeout ?? 0
    if (idle <= 0) {
      this.end()
      return
    }
    clearTimeout(state.idleTimer)
    state.idleTimer = setTimeout(() => {
      if (this.state === state && state.channels.size === 0) this.end()
    }, idle)
    state.idleTimer.unref?.()
  }

  private fail (err: Error): void {
    if (this.state.status !== 'connecting') return
    this.log('%s session %s with %s failed: %s', this.role, this.id, this.remote, err.message)
    const settle = this.settle
    this.end(err)
    settle?.reject(err)
  }

  /** The one transition into `ended`: releases the peer connection. */
  private end (err?: Error): void {
    if (this.state.status === 'ended') return
    if (this.state.status === 'open') clearTimeout(this.state.idleTimer)
    this.state = { status: 'ended' }
    this.outgoing = undefined
    clearTimeout(this.releaseTimer)
    this.releaseTimer = undefined
    this.pc.removeEventListener('icecandidate', this.onLocalCandidate)
    this.pc.removeEventListener('connectionstatechange', this.onConnectionState)
    this.pc.removeEventListener('datachannel', this.onDataChannel)
    closePeerConnection(this.pc)
    if (err != null) this.log.trace('session %s ended: %s', this.id, err.message)
    this.init.onEnd?.()
  }
}

function toError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
