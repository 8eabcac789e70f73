/**
 * A Chiral peer in Node, composed from the packages exactly as an
 * application would (no test seams): a `peer` preset libp2p node reachable
 * through the relay, WebSocket signaling, DHT discovery, and the transport's
 * provider and receiver, offering the same two paths as the demo: the relay
 * and direct WebRTC (node-datachannel; a listener answers offers for the
 * provider, the receiver races both dialers).
 */
import { createDiscovery, createNode, waitForRelayReservation } from '@chiral/core'
import { WebSocketSignaling } from '@chiral/signaling'
import {
  createProvider, createReceiver, createWebRTCListener, createWebRTCPathDialer, NodeRTCPeerConnection, relayDialer, TRANSFER_PROTOCOL
} from '@chiral/transport'
import { generateKeyPair } from '@libp2p/crypto/keys'
import WebSocket from 'ws'
import type { ChiralNode, ContentDiscovery } from '@chiral/core'
import type { WebSocketConstructor } from '@chiral/signaling'
import type { FetchResult, Provider, Receiver } from '@chiral/transport'

export interface NodePeer {
  node: ChiralNode
  discovery: ContentDiscovery
  provider: Provider<string>
  receiver: Receiver
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
  const privateKey = await generateKeyPair('Ed25519')
  const node = await createNode({ role: 'peer', privateKey, relays: init.relays, listen: ['/p2p-circuit'], allowPrivateAddresses: true })
  await node.start()
  const signaling = new WebSocketSignaling({ url: init.signalingUrl, privateKey, WebSocket: WebSocket as unknown as WebSocketConstructor })
  await signaling.start()
  const discovery = createDiscovery(node)
  await discovery.start()
  const provider = createProvider({ node })
  const served: string[] = []
  provider.addEventListener('session:open', (e) => { served.push(e.detail.method) })
  await provider.start()
  const direct = init.direct ?? true
  const rtc = { iceServers: init.iceServers, connectTimeout: 10_000 }
  const webrtc = { signaling, RTCPeerConnection: NodeRTCPeerConnection }
  const listener = direct ? createWebRTCListener(webrtc, rtc) : undefined
  listener?.handle(TRANSFER_PROTOCOL, (channel) => { void provider.serve(channel).catch(() => {}) })
  await listener?.start()
  const dialers = direct ? [relayDialer(node), createWebRTCPathDialer(webrtc, rtc)] : [relayDialer(node)]
  const receiver = createReceiver({ node, discovery, dialers })
  await receiver.start()
  await waitForRelayReservation(node, { signal: AbortSignal.timeout(20_000) })
  return {
    node,
    discovery,
    provider,
    receiver,
    served,
    async share (path) {
      const manifest = await provider.share(path)
      const cid = manifest.cid.toString()
      await discovery.announce(cid, { signal: AbortSignal.timeout(30_000) })
      return cid
    },
    async fetch (cid, directory) {
      const providers = []
      for await (const p of discovery.findProviders(cid, { signal: AbortSignal.timeout(30_000), limit: 3 })) providers.push(p)
      return receiver.fetch(cid, { providers, destination: directory, signal: AbortSignal.timeout(120_000) })
    },
    async stop () {
      await receiver.stop()
      await listener?.stop()
      await provider.stop()
      await discovery.stop()
      await signaling.stop()
      await node.stop()
    }
  }
}
