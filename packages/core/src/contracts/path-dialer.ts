import type { AbortOptions } from './abort.js'
import type { MessageChannel } from './message-channel.js'
import type { TransferMethod } from './transfer-method.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A remote peer as discovery describes it. */
export interface PeerTarget {
  /** libp2p PeerId string. */
  peerId: string
  /** Dialable addresses, relay circuit addresses included. */
  multiaddrs: Multiaddr[]
}

/** Opens one kind of path to a peer and hands back a message channel. */
export interface PathDialer {
  /** A short stable name: `relay`, `webrtc`, `libp2p-webrtc`, … */
  readonly name: string
  /** The method the channels of this path report. */
  readonly method: TransferMethod
  dial(target: PeerTarget, protocol: string, options?: AbortOptions): Promise<MessageChannel>
}
