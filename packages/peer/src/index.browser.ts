/**
 * @chiral/peer for browsers: `createPeer()` — share Blobs/Files, fetch as a
 * Blob (`result.blob`). Relays are dialled over WebSockets.
 */
import { createNode } from '@chiral/core'
import { createProvider, createReceiver } from '@chiral/transport'
import { ChiralPeer } from './peer.js'
import type { PeerInit } from './peer-init.js'
import type { Platform } from './platform.js'

export * from './exports.js'

const browser: Platform<never> = {
  browser: true,
  role: 'browser',
  createNode,
  createProvider,
  createReceiver
}

/** A peer for browsers. Call `start()`. */
export function createPeer (init: PeerInit): ChiralPeer<never> {
  return new ChiralPeer<never>(init, browser)
}
