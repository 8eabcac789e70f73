/** One path attempt between this page and a peer, as the Network page lists it. */
export interface PathAttempt {
  id: number
  peerId: string
  /** `outgoing`: this page dialled (a download); `incoming`: a peer dialled us (we share). */
  direction: 'outgoing' | 'incoming'
  /** The path's name (`webrtc`, `relay`, …). */
  path: string
  method: string
  state: 'opening' | 'open' | 'closed' | 'failed'
  startedAt: number
  /** From dial (or offer) to usable channel, ms. */
  setupMs?: number
  error?: string
}
