/**
 * The three signaling backends a WebRTC path can run over, built the way an
 * app builds them: a WebSocket client registered on a signaling server with
 * its PeerId (signed challenge), libp2p messages over the node's relayed
 * connections, or the hybrid of both (libp2p first). Also a `Signaling`
 * wrapper that counts which route carried each message, both ways.
 */
import { HybridSignaling, Libp2pSignaling, WebSocketSignaling } from '@chiral/signaling'
import { TypedEventEmitter } from 'main-event'
import { WebSocket } from 'ws'
import type { AbortOptions, ChiralNode, SignalEvent, SignalMessage, Signaling, SignalingEvents, SignalingRoute } from '@chiral/core'
import type { PrivateKey } from '@libp2p/interface'

export type SignalingBackend = 'websocket' | 'libp2p' | 'hybrid'
export const SIGNALING_BACKENDS: readonly SignalingBackend[] = ['websocket', 'libp2p', 'hybrid']

export interface BackendInit {
  node: ChiralNode
  /** The node's key: the WebSocket client registers as its PeerId. */
  privateKey: PrivateKey
  /** Signaling server URL (websocket and hybrid). */
  url?: string
}

export interface StartedBackend {
  /** Counts the routes of what it sent and received. */
  signaling: CountingSignaling
  /** Hybrid only: which route carried each message sent, and which failed before it. */
  routeReports: Array<{ route: SignalingRoute, failed: SignalingRoute[] }>
}

/** Builds and starts the backend; for WebSocket ones, resolves once registered. */
export async function startBackend (backend: SignalingBackend, init: BackendInit): Promise<StartedBackend> {
  const routeReports: StartedBackend['routeReports'] = []
  const ws = (): WebSocketSignaling => {
    if (init.url == null) throw new Error(`the ${backend} backend needs a signaling server URL`)
    return new WebSocketSignaling({ url: init.url, WebSocket, privateKey: init.privateKey, reconnect: { initialDelay: 50, maxDelay: 500 } })
  }
  let signaling: Signaling
  let websocket: WebSocketSignaling | undefined
  if (backend === 'websocket') {
    signaling = websocket = ws()
  } else if (backend === 'libp2p') {
    signaling = new Libp2pSignaling({ node: init.node })
  } else {
    websocket = ws()
    const hybrid = new HybridSignaling({ libp2p: new Libp2pSignaling({ node: init.node }), websocket }, { attemptTimeout: 3000 })
    hybrid.addEventListener('route', (e) => { routeReports.push({ route: e.detail.route, failed: e.detail.failed.map((f) => f.route) }) })
    signaling = hybrid
  }
  await signaling.start()
  if (websocket != null) await untilRegistered(websocket)
  return { signaling: new CountingSignaling(signaling), routeReports }
}

async function untilRegistered (client: WebSocketSignaling, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'open') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`not registered after ${timeoutMs} ms (status ${client.status})`)) }, timeoutMs)
    const onState = (e: CustomEvent<{ status: string }>): void => {
      if (e.detail.status !== 'open') return
      clearTimeout(timer)
      client.removeEventListener('state', onState)
      resolve()
    }
    client.addEventListener('state', onState)
  })
}

export type RouteCounts = Record<SignalingRoute, number>

/** A `Signaling` that passes everything through and counts the routes of what it sent and received. */
export class CountingSignaling extends TypedEventEmitter<SignalingEvents> implements Signaling {
  readonly sent: RouteCounts = { websocket: 0, libp2p: 0 }
  readonly received: RouteCounts = { websocket: 0, libp2p: 0 }

  constructor (private readonly inner: Signaling) {
    super()
    inner.addEventListener('signal', this.onSignal)
  }

  get id (): string {
    return this.inner.id
  }

  async start (): Promise<void> {
    await this.inner.start()
  }

  async stop (): Promise<void> {
    this.inner.removeEventListener('signal', this.onSignal)
    await this.inner.stop()
  }

  async send (to: string, message: SignalMessage, options?: AbortOptions): Promise<SignalingRoute> {
    const route = await this.inner.send(to, message, options)
    this.sent[route]++
    return route
  }

  private readonly onSignal = (event: CustomEvent<SignalEvent>): void => {
    this.received[event.detail.route]++
    this.safeDispatchEvent('signal', { detail: event.detail })
  }
}
