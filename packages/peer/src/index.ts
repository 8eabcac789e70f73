/**
 * @chiral/peer for Node: `createPeer()` — share files by path (or Blobs),
 * fetch into a directory (resumable: `.part` + resume record) or as a Blob.
 */
import { createNode } from '@chiral/core'
import { createProvider, createReceiver, NodeRTCPeerConnection } from '@chiral/transport'
import WebSocket from 'ws'
import { ChiralPeer } from './peer.js'
import type { PeerInit } from './peer-init.js'
import type { Platform } from './platform.js'
import type { WebSocketConstructor } from '@chiral/signaling'

export * from './exports.js'

const node: Platform<string> = {
  browser: false,
  role: 'peer',
  createNode,
  createProvider,
  createReceiver,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  RTCPeerConnection: NodeRTCPeerConnection
}

/** A peer for Node. Call `start()`. */
export function createPeer (init: PeerInit): ChiralPeer<string> {
  return new ChiralPeer<string>(init, node)
}
