/**
 * What differs between Node and browsers, given to the peer by its entry
 * point (`index.ts` or `index.browser.ts`, picked by export conditions).
 */
import type { ChiralNode, NodeInit } from '@chiral/core'
import type { WebSocketConstructor } from '@chiral/signaling'
import type { Provider, ProviderComponents, ProviderInit, Receiver, ReceiverComponents, ReceiverInit, RTCPeerConnectionConstructor } from '@chiral/transport'

export interface Platform<Input> {
  /** Browsers: WebSockets relays only, Blobs only, results as Blobs. */
  browser: boolean
  /** The libp2p node role of a peer on this platform. */
  role: 'peer' | 'browser'
  createNode(init: NodeInit): Promise<ChiralNode>
  createProvider(components: ProviderComponents, init: ProviderInit): Provider<Input>
  createReceiver(components: ReceiverComponents, init: ReceiverInit): Receiver
  /** The WebSocket constructor (Node: `ws`'s; browsers: the global one). */
  WebSocket?: WebSocketConstructor
  /** The RTCPeerConnection constructor (Node: node-datachannel's; browsers: the global one). */
  RTCPeerConnection?: RTCPeerConnectionConstructor
  /** Called as a peer starts; the function it returns, once that peer stopped (Node: native WebRTC is released after the last one). */
  retain?: () => () => void
}
