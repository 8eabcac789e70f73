/**
 * The demo's peer: one `ChiralPeer` from @chiral/peer (node, signaling,
 * discovery, provider, paths and receiver under one key), used as any
 * application would. Its fields are reactive views for the pages, fed from
 * the peer's events and, once it runs, from its components.
 *
 *   idle ──start()──► starting (the peer's steps) ──► running ──stop()──► stopped
 *                        │
 *                        └── cannot start (bad settings, no relay) ──► failed
 */
import { NotStartedError } from '@chiral/core'
import { createPeer } from '@chiral/peer'
import { WebSocketSignaling } from '@chiral/signaling'
import { methodOfConnection } from '@chiral/transport'
import { AttemptLog } from './attempt-log.js'
import { explainError } from './format.js'
import { peerInitOf } from './peer-init.js'
import { listen } from './peer-listeners.js'
import type { PathAttempt } from './path-attempts.js'
import type { DemoSettings } from './settings.js'
import type { ChiralPeer, PeerComponents, PeerFetchOptions, PeerState, Reachability } from '@chiral/peer'
import type { ConnectionStatus } from '@chiral/signaling'
import type { FetchResult } from '@chiral/transport'
import type { Connection } from '@libp2p/interface'

export type ClientPhase =
  | { name: 'idle' }
  | { name: 'starting', step: string }
  | { name: 'running' }
  | { name: 'failed', title: string, detail: string }
  | { name: 'stopped' }

export interface SignalingView {
  status: ConnectionStatus
  attempt: number
  /** The server registered on or being tried (of several: which one); while backing off, the one tried next. */
  url?: string
  /** When the next reconnect attempt starts (ms since epoch), while backing off. */
  retryAt?: number
}

export interface ConnectionView {
  id: string
  peerId: string
  remoteAddr: string
  /** How the bytes travel: `webrtc-direct`, `relay`, `tcp-direct`, `libp2p-direct`. */
  method: string
  direction: string
  status: string
  openedAt: number
}

export interface ServedView {
  id: number
  method: string
  at: number
  open: boolean
}

export class ChiralClient {
  phase = $state<ClientPhase>({ name: 'idle' })
  peerId = $state('')
  relays = $state<string[]>([])
  /** The signaling servers of the settings, in the order the peer tries them. */
  signalingUrls = $state<string[]>([])
  signaling = $state<SignalingView>({ status: 'idle', attempt: 0 })
  roomPeers = $state<string[]>([])
  reservations = $state<string[]>([])
  /** Whether other peers can dial this one directly (AutoNAT; a browser: never, it is reached through the relay). */
  direct = $state<Reachability>({ status: 'unknown' })
  connections = $state<ConnectionView[]>([])
  attempts = $state<PathAttempt[]>([])
  /** Names of the paths a download races (`relay`, `webrtc`). */
  offeredPaths = $state<string[]>([])
  /** Whether this page answers direct-path offers (it serves shares over WebRTC too). */
  answersDirect = $state(false)
  /** Per peer, the path that carries new requests of the latest download from it (`path:switch`). */
  activePaths = $state<Record<string, string>>({})
  /** Transfer sessions served to other peers, by method (how others fetched from us). */
  served = $state<ServedView[]>([])

  /** The peer, once `start()` created it. */
  peer?: ChiralPeer<never>
  private readonly settings: DemoSettings
  private readonly log = new AttemptLog((list) => { this.attempts = list })
  private readonly cleanups: Array<() => void> = []
  /** The attempt mark of the latest fetch (see `AttemptLog.mark`). */
  private latestFetch = 0

  constructor (settings: DemoSettings) {
    this.settings = settings
    this.signalingUrls = [...settings.signalingUrls]
  }

  async start (): Promise<void> {
    if (this.phase.name !== 'idle') return
    try {
      if (globalThis.crypto?.subtle == null) {
        throw new Error('this page must be opened over https:// (or on localhost): browsers only offer the cryptography it needs there')
      }
      const peer = createPeer(peerInitOf(this.settings, `${window.location.origin}${window.location.pathname}`))
      this.peer = peer
      this.follow(peer)
      await peer.start()
    } catch (err) {
      this.phase = { name: 'failed', ...explainError(err) }
    }
  }

  async stop (): Promise<void> {
    await this.peer?.stop()
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    if (this.phase.name !== 'failed') this.phase = { name: 'stopped' }
  }

  /**
   * Fetches a content id through the peer. When the fetch ends its paths'
   * channels are closed: the attempts it left open are marked so.
   */
  async fetch (cid: string, options: PeerFetchOptions): Promise<FetchResult> {
    const peer = this.peer
    if (peer === undefined) throw new NotStartedError('The peer is not running')
    const mark = this.log.mark()
    this.latestFetch = mark
    try {
      return await peer.fetch(cid, options)
    } finally {
      this.log.fetchEnded(mark, this.latestFetch === mark ? Infinity : this.latestFetch)
    }
  }

  /** The peer's own events: lifecycle, signaling, reachability, paths, serving. */
  private follow (peer: ChiralPeer<never>): void {
    this.cleanups.push(this.log.follow(peer), listen(peer, {
      'state': (e) => { this.onState(peer, e.detail) },
      'signaling': (e) => {
        const { status, attempt, url, delay } = e.detail
        this.signaling = {
          status,
          attempt,
          ...(url === undefined ? {} : { url }),
          ...(status === 'backing-off' && delay !== undefined ? { retryAt: Date.now() + delay } : {})
        }
      },
      'reachability': (e) => {
        this.reservations = e.detail.relayAddresses
        this.direct = e.detail.direct
      },
      'path:switch': (e) => { this.activePaths = { ...this.activePaths, [e.detail.peerId]: e.detail.to } },
      'serve:open': (e) => { this.served = [...this.served, { id: e.detail.id, method: e.detail.method, at: e.detail.startedAt, open: true }] },
      'serve:close': (e) => { this.served = this.served.map((s) => s.id === e.detail.id ? { ...s, open: false } : s) }
    }))
  }

  private onState (peer: ChiralPeer<never>, state: PeerState): void {
    this.relays = peer.relays
    switch (state.status) {
      case 'starting':
        this.phase = { name: 'starting', step: state.step }
        return
      case 'running':
        // Read the components before the pages see `running`, so they find them in place.
        this.watch(peer.components)
        this.peerId = peer.peerId
        this.reservations = peer.relayAddresses
        this.direct = peer.reachability
        this.phase = { name: 'running' }
        return
      case 'failed':
        this.phase = { name: 'failed', ...explainError(state.error) }
        return
      case 'stopped':
        if (this.phase.name !== 'failed') this.phase = { name: 'stopped' }
    }
  }

  /** What the peer's events do not tell: the paths on offer, the room, the libp2p connections. */
  private watch (components: PeerComponents<never>): void {
    const { node, paths, signaling } = components
    this.offeredPaths = paths.dialers.map((d) => d.name)
    this.answersDirect = paths.listener !== undefined
    if (signaling instanceof WebSocketSignaling) {
      const onPeers = (e: CustomEvent<string[]>): void => { this.roomPeers = [...e.detail] }
      const onJoined = (e: CustomEvent<string>): void => { if (!this.roomPeers.includes(e.detail)) this.roomPeers = [...this.roomPeers, e.detail] }
      const onLeft = (e: CustomEvent<string>): void => { this.roomPeers = this.roomPeers.filter((p) => p !== e.detail) }
      this.roomPeers = signaling.peers
      signaling.addEventListener('peers', onPeers)
      signaling.addEventListener('peer-joined', onJoined)
      signaling.addEventListener('peer-left', onLeft)
      this.cleanups.push(() => {
        signaling.removeEventListener('peers', onPeers)
        signaling.removeEventListener('peer-joined', onJoined)
        signaling.removeEventListener('peer-left', onLeft)
      })
    }
    const refresh = (): void => { this.connections = node.getConnections().map(connectionView) }
    node.addEventListener('connection:open', refresh)
    node.addEventListener('connection:close', refresh)
    const timer = setInterval(refresh, 1000)
    this.cleanups.push(() => {
      clearInterval(timer)
      node.removeEventListener('connection:open', refresh)
      node.removeEventListener('connection:close', refresh)
    })
    refresh()
  }
}

function connectionView (c: Connection): ConnectionView {
  return {
    id: c.id,
    peerId: c.remotePeer.toString(),
    remoteAddr: c.remoteAddr.toString(),
    method: methodOfConnection(c),
    direction: c.direction,
    status: c.status,
    openedAt: c.timeline.open
  }
}
