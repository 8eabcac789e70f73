/**
 * The paths a peer offers, composed from @chiral/transport: the dialers its
 * receiver races for each provider and, when direct paths are on, the
 * WebRTC listener that answers other peers' offers and serves the provider
 * on each DataChannel.
 *
 *   fetch:  receiver ─┬─ relay ─── /p2p-circuit ─────────────► provider (libp2p handler)
 *                     ├─ webrtc ── offer via signaling ──────► their listener ─► provider.serve
 *                     └─ dcutr / libp2p-webrtc (Node, when asked for)
 */
import { InvalidArgumentError } from '@chiral/core'
import { createWebRTCListener, createWebRTCPathDialer, dcutrDialer, libp2pWebRTCDialer, relayDialer, TRANSFER_PROTOCOL } from '@chiral/transport'
import type { ChiralNode, PathDialer, Signaling, Startable } from '@chiral/core'
import type { DcutrDialerNode, Provider, RTCPeerConnectionConstructor, WebRTCInit, WebRTCListener, WebRTCPathDialer } from '@chiral/transport'

/**
 * A path a peer can race: `relay`, `webrtc` (more WebRTC paths side by side
 * as `webrtc-2`, `webrtc-3`, …, one peer connection each), `dcutr` (Node
 * peers with `directTcp`), `libp2p-webrtc` (nodes with libp2p's WebRTC).
 */
export type PathName = 'relay' | 'dcutr' | 'libp2p-webrtc' | `webrtc${string}`

export interface PathSetComponents {
  node: ChiralNode
  /** Carries the direct path's offers; without it there is no WebRTC path. */
  signaling?: Signaling
  provider: Provider<unknown>
  RTCPeerConnection?: RTCPeerConnectionConstructor
}

export interface PathSetInit {
  paths: PathName[]
  /** Answer other peers' WebRTC offers (serve the provider directly). */
  answerDirect: boolean
  rtc: WebRTCInit
}

export interface PathSet extends Startable {
  dialers: PathDialer[]
  listener?: WebRTCListener
  /** The WebRTC dialers among `dialers`. */
  webrtc: WebRTCPathDialer[]
}

export function createPathSet (components: PathSetComponents, init: PathSetInit): PathSet {
  const { node, signaling, provider } = components
  const webrtcComponents = signaling === undefined
    ? undefined
    : { signaling, ...(components.RTCPeerConnection === undefined ? {} : { RTCPeerConnection: components.RTCPeerConnection }) }
  const webrtc: WebRTCPathDialer[] = []
  const dialers = init.paths.map((name): PathDialer => {
    if (name === 'relay') return relayDialer(node)
    if (name === 'dcutr') return dcutrDialer(node as unknown as DcutrDialerNode)
    if (name === 'libp2p-webrtc') return libp2pWebRTCDialer(node)
    if (/^webrtc(-[\w-]+)?$/.test(name)) {
      if (webrtcComponents === undefined) throw new InvalidArgumentError(`The ${name} path needs a signaling server (the signaling option)`)
      const dialer = createWebRTCPathDialer(webrtcComponents, { ...init.rtc, name })
      webrtc.push(dialer)
      return dialer
    }
    throw new InvalidArgumentError(`Unknown path ${String(name)}: use relay, webrtc, webrtc-<n>, dcutr or libp2p-webrtc`)
  })
  const listener = init.answerDirect && webrtcComponents !== undefined ? createWebRTCListener(webrtcComponents, init.rtc) : undefined
  listener?.handle(TRANSFER_PROTOCOL, (channel, info) => {
    void provider.serve(channel, { peerId: info.from }).catch(() => {})
  })
  return {
    dialers,
    ...(listener === undefined ? {} : { listener }),
    webrtc,
    async start () {
      await listener?.start()
    },
    async stop () {
      await listener?.stop()
      for (const dialer of webrtc) dialer.closeAll()
    }
  }
}
