import { TypedEventEmitter } from 'main-event'
import type { AbortOptions, Signaling, SignalingEvents, SignalingRoute, SignalMessage } from '@chiral/core'

export interface SignalingFilterInit {
  /** Drop candidates in both directions (ICE then has nothing to try). */
  dropCandidates?: boolean
  /** Hold outgoing offers this long, ms (delays the direct path on purpose). */
  delayOffers?: number
}

/**
 * Wraps a real Signaling backend to make WebRTC fail or arrive late, the way
 * a hostile network would: it drops or delays messages, nothing else.
 */
export class FilteredSignaling extends TypedEventEmitter<SignalingEvents> implements Signaling {
  readonly id: string
  private readonly inner: Signaling
  private readonly init: SignalingFilterInit

  constructor (inner: Signaling, init: SignalingFilterInit) {
    super()
    this.inner = inner
    this.init = init
    this.id = inner.id
    inner.addEventListener('signal', (event) => {
      if (this.init.dropCandidates === true && event.detail.message.type === 'candidate') return
      this.safeDispatchEvent('signal', { detail: event.detail })
    })
  }

  async start (): Promise<void> { await this.inner.start() }
  async stop (): Promise<void> { await this.inner.stop() }

  async send (to: string, message: SignalMessage, options?: AbortOptions): Promise<SignalingRoute> {
    if (this.init.dropCandidates === true && message.type === 'candidate') return 'libp2p'
    if (message.type === 'offer' && this.init.delayOffers !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, this.init.delayOffers))
    }
    return this.inner.send(to, message, options)
  }
}
