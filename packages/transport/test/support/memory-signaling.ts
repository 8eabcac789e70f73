/**
 * An in-process `Signaling` for tests: peers attached to one hub reach each
 * other by id. Messages are cloned (as if serialised) and delivered
 * asynchronously; a `filter` can delay or drop any of them, to reorder
 * candidates ahead of offers/answers or to make ICE impossible.
 */
import { TypedEventEmitter } from 'main-event'
import type { AbortOptions, SignalMessage, Signaling, SignalingEvents, SignalingRoute } from '@chiral/core'

export interface SignalEnvelope {
  from: string
  to: string
  message: SignalMessage
}

/** Delay in ms (0 = next tick), or 'drop'. */
export type SignalFilter = (envelope: SignalEnvelope) => number | 'drop'

export class MemorySignalingHub {
  /** Every message sent through the hub, in send order (also dropped ones). */
  readonly log: Array<SignalEnvelope & { dropped: boolean }> = []
  filter: SignalFilter
  private readonly peers = new Map<string, MemorySignaling>()

  constructor (filter: SignalFilter = () => 0) {
    this.filter = filter
  }

  /** A Signaling endpoint with the given id (started). */
  connect (id: string): MemorySignaling {
    const peer = new MemorySignaling(id, this)
    this.peers.set(id, peer)
    return peer
  }

  /** @internal */
  deliver (envelope: SignalEnvelope): void {
    const verdict = this.filter(envelope)
    this.log.push({ ...envelope, dropped: verdict === 'drop' })
    if (verdict === 'drop') return
    const target = this.peers.get(envelope.to)
    if (target == null) throw new Error(`no peer ${envelope.to}`)
    const message = structuredClone(envelope.message)
    setTimeout(() => { target.receive(envelope.from, message) }, verdict)
  }

  /** @internal */
  remove (id: string): void {
    this.peers.delete(id)
  }
}

export class MemorySignaling extends TypedEventEmitter<SignalingEvents> implements Signaling {
  readonly id: string
  private running = true

  constructor (id: string, private readonly hub: MemorySignalingHub) {
    super()
    this.id = id
  }

  async start (): Promise<void> {
    this.running = true
  }

  async stop (): Promise<void> {
    this.running = false
    this.hub.remove(this.id)
  }

  async send (to: string, message: SignalMessage, options: AbortOptions = {}): Promise<SignalingRoute> {
    options.signal?.throwIfAborted()
    if (!this.running) throw new Error('signaling stopped')
    this.hub.deliver({ from: this.id, to, message })
    return 'websocket'
  }

  /** @internal */
  receive (from: string, message: SignalMessage): void {
    if (!this.running) return
    this.safeDispatchEvent('signal', { detail: { from, message, route: 'websocket' } })
  }
}
