/**
 * The demo's peer: a browser libp2p node (relay reservations, DHT client),
 * a signaling client, and the transport's provider and receiver, composed
 * as any application would. Its fields are reactive for the pages.
 *
 *   idle ──start()──► starting ──► running ──stop()──► stopped
 *                        │
 *                        └── cannot start (bad settings, no relay address) ──► failed
 */
import { createDiscovery, createNode, relayAddresses } from '@chiral/core'
import { WebSocketSignaling } from '@chiral/signaling'
import { createProvider, createReceiver, methodOfConnection } from '@chiral/transport'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { fetchRelayAddrs } from './relay-addresses.js'
import { createTransferPaths } from './transfer-paths.js'
import type { DemoSettings } from './settings.js'
import type { PathAttempt } from './path-attempts.js'
import type { TransferPaths } from './transfer-paths.js'
import type { ChiralNode, ContentDiscovery } from '@chiral/core'
import type { ConnectionStatus } from '@chiral/signaling'
import type { Provider, Receiver } from '@chiral/transport'
import type { Connection } from '@libp2p/interface'

export type ClientPhase =
  | { name: 'idle' }
  | { name: 'starting', step: string }
  | { name: 'running' }
  | { name: 'failed', error: string }
  | { name: 'stopped' }

export interface SignalingView {
  status: ConnectionStatus
  attempt: number
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

export class ChiralClient {
  phase = $state<ClientPhase>({ name: 'idle' })
  peerId = $state('')
  relays = $state<string[]>([])
  signaling = $state<SignalingView>({ status: 'idle', attempt: 0 })
  roomPeers = $state<string[]>([])
  reservations = $state<string[]>([])
  connections = $state<ConnectionView[]>([])
  attempts = $state<PathAttempt[]>([])
  /** Names of the paths a download races (`relay`, `webrtc`). */
  offeredPaths = $state<string[]>([])
  /** Whether this page answers direct-path offers (it serves shares over WebRTC too). */
  answersDirect = $state(false)
  /** Per peer, the path that carries new requests of the latest download from it (the transport's `path:switch`). */
  activePaths = $state<Record<string, string>>({})
  /** Incoming transfer sessions by method (how others fetched from us). */
  served = $state<Array<{ method: string, at: number, open: boolean }>>([])

  node?: ChiralNode
  discovery?: ContentDiscovery
  provider?: Provider<never>
  receiver?: Receiver
  private signalingClient?: WebSocketSignaling
  private paths?: TransferPaths
  private timer?: ReturnType<typeof setInterval>
  private readonly settings: DemoSettings

  constructor (settings: DemoSettings) {
    this.settings = settings
  }

  async start (): Promise<void> {
    if (this.phase.name !== 'idle') return
    try {
      await this.boot()
      this.phase = { name: 'running' }
    } catch (err) {
      this.phase = { name: 'failed', error: (err as Error).message }
      await this.stop().catch(() => {})
      this.phase = { name: 'failed', error: (err as Error).message }
    }
  }

  private async boot (): Promise<void> {
    const s = this.settings
    if (globalThis.crypto?.subtle == null) {
      throw new Error('this page must be opened over https:// (or on localhost): browsers only offer the cryptography it needs there')
    }
    this.phase = { name: 'starting', step: 'finding the relay' }
    this.relays = s.relays.length > 0 ? s.relays : await fetchRelayAddrs(s.signalingUrl, { signal: AbortSignal.timeout(10_000) })

    this.phase = { name: 'starting', step: 'starting the peer' }
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createNode({ role: 'browser', privateKey, relays: this.relays, allowPrivateAddresses: s.allowPrivateAddresses })
    this.node = node
    this.peerId = node.peerId.toString()
    node.addEventListener('self:peer:update', this.refreshReservations)
    node.addEventListener('connection:open', this.refreshConnections)
    node.addEventListener('connection:close', this.refreshConnections)
    await node.start()

    const signaling = new WebSocketSignaling({ url: s.signalingUrl, privateKey })
    this.signalingClient = signaling
    signaling.addEventListener('state', (e) => {
      const detail = e.detail as { status: ConnectionStatus, attempt: number, delay?: number }
      this.signaling = {
        status: detail.status,
        attempt: detail.attempt,
        ...(detail.status === 'backing-off' && typeof detail.delay === 'number' ? { retryAt: Date.now() + detail.delay } : {})
      }
    })
    signaling.addEventListener('peers', (e) => { this.roomPeers = [...e.detail] })
    signaling.addEventListener('peer-joined', (e) => { if (!this.roomPeers.includes(e.detail)) this.roomPeers = [...this.roomPeers, e.detail] })
    signaling.addEventListener('peer-left', (e) => { this.roomPeers = this.roomPeers.filter((p) => p !== e.detail) })
    await signaling.start()

    this.discovery = createDiscovery(node)
    await this.discovery.start()
    const provider = createProvider({ node })
    this.provider = provider
    provider.addEventListener('session:open', (e) => { this.served = [...this.served, { method: e.detail.method, at: Date.now(), open: true }] })
    await provider.start()
    this.paths = createTransferPaths({ node, signaling, provider }, s, this.recordAttempt)
    await this.paths.start()
    this.offeredPaths = this.paths.dialers.map((d) => d.name)
    this.answersDirect = this.paths.listener != null
    this.receiver = createReceiver({ node, discovery: this.discovery, dialers: this.paths.dialers })
    this.receiver.race.addEventListener('path:switch', (e) => {
      this.activePaths = { ...this.activePaths, [e.detail.peerId]: e.detail.to }
    })
    await this.receiver.start()
    this.timer = setInterval(this.refreshConnections, 1000)
    this.refreshReservations()
    this.refreshConnections()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.receiver?.stop()
    await this.paths?.stop()
    await this.provider?.stop()
    await this.discovery?.stop()
    await this.signalingClient?.stop()
    await this.node?.stop()
    this.phase = { name: 'stopped' }
  }

  /** Forces a reconnect of the signaling client (used by the Network page's button). */
  async reconnectSignaling (): Promise<void> {
    await this.signalingClient?.stop()
    await this.signalingClient?.start()
  }

  private readonly recordAttempt = (attempt: PathAttempt): void => {
    const rest = this.attempts.filter((a) => a.id !== attempt.id)
    this.attempts = [...rest, attempt].sort((a, b) => a.id - b.id).slice(-50)
  }

  private readonly refreshReservations = (): void => {
    if (this.node == null) return
    this.reservations = relayAddresses(this.node).map((a) => a.toString())
  }

  private readonly refreshConnections = (): void => {
    if (this.node == null) return
    this.connections = this.node.getConnections().map(connectionView)
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
