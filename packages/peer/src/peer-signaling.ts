/**
 * The signaling client a peer uses, by mode: the WebSocket server (one URL
 * or several to fail over between), libp2p messages through the relay, or
 * both (libp2p first). One key for the node and the server registration.
 */
import { createHybridSignaling, createLibp2pSignaling, createWebSocketSignaling } from '@chiral/signaling'
import type { SignalingMode } from './peer-init.js'
import type { ChiralNode, Signaling } from '@chiral/core'
import type { WebSocketConstructor, WebSocketSignaling } from '@chiral/signaling'
import type { PrivateKey } from '@libp2p/interface'

export interface PeerSignalingInit {
  node: ChiralNode
  mode: SignalingMode
  /** Signaling server URLs (none: no WebSocket client). */
  urls: string[]
  privateKey: PrivateKey
  WebSocket?: WebSocketConstructor
}

/** The client, and its WebSocket part when it has one (its state is the peer's signaling state). */
export function peerSignaling (init: PeerSignalingInit): { signaling: Signaling, websocket?: WebSocketSignaling } | undefined {
  if (init.mode === 'libp2p') return { signaling: createLibp2pSignaling({ node: init.node }) }
  if (init.urls.length === 0) return undefined
  const websocket = createWebSocketSignaling({
    urls: init.urls,
    privateKey: init.privateKey,
    ...(init.WebSocket === undefined ? {} : { WebSocket: init.WebSocket })
  })
  if (init.mode !== 'hybrid') return { signaling: websocket, websocket }
  return { signaling: createHybridSignaling({ libp2p: createLibp2pSignaling({ node: init.node }), websocket }), websocket }
}
