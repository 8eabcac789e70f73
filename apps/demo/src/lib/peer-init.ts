/** The demo's settings as the peer's: every setting maps onto one `PeerInit` field. */
import { iceServersOf } from './ice-servers.js'
import type { DemoSettings } from './settings.js'
import type { PeerInit } from '@chiral/peer'

/**
 * `linkBase` is this app's own address, so share links open the app that
 * made them (wherever it is hosted), not the node's copy of it.
 */
export function peerInitOf (settings: DemoSettings, linkBase: string): PeerInit {
  return {
    signaling: settings.signalingUrls.length === 1 ? settings.signalingUrls[0]! : settings.signalingUrls,
    ...(settings.relays.length > 0 ? { relays: settings.relays } : {}),
    iceServers: iceServersOf(settings.iceServers),
    direct: settings.directConnections,
    allowPrivateAddresses: settings.allowPrivateAddresses,
    linkBase
  }
}
