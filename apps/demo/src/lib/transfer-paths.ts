/**
 * Which paths the demo offers, in one place: the receiver's dialers (relay
 * and, unless turned off in Settings, direct WebRTC; the transport races
 * them) and, on the sharing side, the WebRTC listener that answers offers
 * and serves the provider on each DataChannel. Everything protocol-related
 * lives in @chiral/transport; this file only composes it.
 *
 *   download:  receiver ─┬─ relay dialer ── /p2p-circuit ─────────► peer's provider (libp2p handler)
 *                        └─ webrtc dialer ─ offer via signaling ─► peer's listener ─► provider.serve(channel)
 */
import { createWebRTCListener, createWebRTCPathDialer, relayDialer, TRANSFER_PROTOCOL } from '@chiral/transport'
import { iceConfig } from './ice-servers.js'
import { incomingAttempts } from './incoming-attempts.js'
import { timedDialer } from './timed-dialer.js'
import type { PathAttemptReport } from './path-attempts.js'
import type { DemoSettings } from './settings.js'
import type { ChiralNode, PathDialer, Signaling, Startable } from '@chiral/core'
import type { Provider, WebRTCInit, WebRTCListener } from '@chiral/transport'

/** From offer to open DataChannel; past this the direct path counts as failed (the relay carries on). */
export const DIRECT_CONNECT_TIMEOUT = 10_000

export interface TransferPathsComponents {
  node: ChiralNode
  signaling: Signaling
  provider: Provider<never>
}

export interface TransferPaths extends Startable {
  /** Dialers the receiver races for each provider. */
  dialers: PathDialer[]
  /** Answers direct-path offers from downloading peers (absent when direct paths are off). */
  listener?: WebRTCListener
}

export type TransferPathsSettings = Pick<DemoSettings, 'iceServers' | 'directConnections'>

/** The paths for the current settings; `report` sees every attempt, outgoing and incoming. */
export function createTransferPaths (components: TransferPathsComponents, settings: TransferPathsSettings, report: PathAttemptReport): TransferPaths {
  const { node, signaling, provider } = components
  const dialers: PathDialer[] = [timedDialer(relayDialer(node), report)]
  if (!settings.directConnections) {
    return { dialers, async start () {}, async stop () {} }
  }
  const rtc: WebRTCInit = { ...iceConfig(settings.iceServers), connectTimeout: DIRECT_CONNECT_TIMEOUT }
  const webrtc = createWebRTCPathDialer({ signaling }, rtc)
  dialers.push(timedDialer(webrtc, report))
  const listener = createWebRTCListener({ signaling }, rtc)
  const incoming = incomingAttempts({ signaling, listener }, report)
  listener.handle(TRANSFER_PROTOCOL, (channel, info) => {
    void provider.serve(incoming.opened(channel, info)).catch(() => {})
  })
  return {
    dialers,
    listener,
    async start () {
      // The recorder sees each offer before the listener answers it.
      incoming.start()
      await listener.start()
    },
    async stop () {
      await listener.stop()
      incoming.stop()
      webrtc.closeAll()
    }
  }
}
