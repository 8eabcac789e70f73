/**
 * A Chiral peer in Node for the browser scenarios: `@chiral/peer` as an
 * application uses it, offering the same two paths as the demo (the relay
 * and direct WebRTC over node-datachannel).
 */
import { createPeer } from '@chiral/peer'
import type { ChiralPeer } from '@chiral/peer'
import type { FetchResult } from '@chiral/transport'

export interface NodePeer {
  peer: ChiralPeer<string>
  /** Methods of the transfer sessions this peer served. */
  served: string[]
  /** Shares a file by path and announces it; resolves with its content id. */
  share(path: string): Promise<string>
  /** Finds providers of `cid` on the DHT and downloads it into `directory`. */
  fetch(cid: string, directory: string): Promise<FetchResult>
  stop(): Promise<void>
}

export interface NodePeerInit {
  relays: string[]
  signalingUrl: string
  /** STUN/TURN servers for the direct path (tests: none or the lab's, never public ones). */
  iceServers: RTCIceServer[]
  /** Offer the direct WebRTC path (default true). */
  direct?: boolean
}

export async function startNodePeer (init: NodePeerInit): Promise<NodePeer> {
  const peer = createPeer({
    signaling: init.signalingUrl,
    relays: init.relays,
    iceServers: init.iceServers,
    direct: init.direct ?? true,
    allowPrivateAddresses: true
  })
  const served: string[] = []
  peer.addEventListener('serve:open', (e) => { served.push(e.detail.method) })
  await peer.start({ signal: AbortSignal.timeout(30_000) })
  return {
    peer,
    served,
    async share (path) {
      return (await peer.share(path)).cid
    },
    async fetch (cid, directory) {
      return peer.fetch(cid, { destination: directory, signal: AbortSignal.timeout(120_000) })
    },
    async stop () {
      await peer.stop()
    }
  }
}
