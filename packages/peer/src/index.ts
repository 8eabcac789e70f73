/**
 * @chiral/peer for Node: `createPeer()` — share files by path (or Blobs),
 * fetch into a directory (resumable: `.part` + resume record) or as a Blob.
 */
import { createNode } from '@chiral/core'
import { createProvider, createReceiver, NodeRTCPeerConnection, releaseNodeWebRTC } from '@chiral/transport'
import WebSocket from 'ws'
import { ChiralPeer } from './peer.js'
import type { PeerInit } from './peer-init.js'
import type { Platform } from './platform.js'
import type { WebSocketConstructor } from '@chiral/signaling'

export * from './exports.js'

/** Peers of this process between start and stop: native WebRTC is released when the last one stops. */
let running = 0

const node: Platform<string> = {
  browser: false,
  role: 'peer',
  createNode,
  createProvider,
  createReceiver,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  RTCPeerConnection: NodeRTCPeerConnection,
  retain () {
    running++
    let released = false
    return () => {
      if (released) return
      released = true
      if (--running === 0) releaseNodeWebRTC()
    }
  }
}

/**
 * A peer for Node. Call `start()`. When the last peer of the process stops,
 * node-datachannel's threads are released (see transport's
 * `releaseNodeWebRTC`), so the process can exit by itself; other code in the
 * same process that uses node-datachannel loses its connections then.
 */
export function createPeer (init: PeerInit): ChiralPeer<string> {
  return new ChiralPeer<string>(init, node)
}
