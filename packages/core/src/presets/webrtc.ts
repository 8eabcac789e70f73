import type { WebRTCSetting } from './options.js'
import type { Libp2pOptions } from 'libp2p'

/** The listen address that accepts libp2p WebRTC connections (through each relay reservation). */
export const WEBRTC_LISTEN = '/webrtc'

type TransportFactories = NonNullable<Libp2pOptions['transports']>

/** Loads `@libp2p/webrtc` (each platform's preset says how). */
export type LoadWebRTC = () => Promise<Pick<typeof import('@libp2p/webrtc'), 'webRTC'>>

/**
 * libp2p's own WebRTC transport (private-to-private: SDP over a relayed
 * connection, then a direct DataChannel connection, `/p2p-circuit/webrtc`)
 * when `setting` turns it on; none otherwise. `@libp2p/webrtc` is loaded
 * (by `load`) only then.
 */
export async function webRTCTransports (setting: WebRTCSetting | undefined, load: LoadWebRTC): Promise<TransportFactories> {
  if (setting == null || setting === false) return []
  const { webRTC } = await load()
  const iceServers = setting === true ? undefined : setting.iceServers
  if (iceServers == null) return [webRTC()]
  // A fresh configuration per peer connection: libp2p fills in defaults on the object it gets.
  return [webRTC({ rtcConfiguration: () => ({ iceServers: iceServers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : s.urls })) }) })]
}

/** `addresses` with `/webrtc` added to the listen list when WebRTC is on (and it is not there yet). */
export function withWebRTCListen (addresses: NonNullable<Libp2pOptions['addresses']>, setting: WebRTCSetting | undefined): NonNullable<Libp2pOptions['addresses']> {
  if (setting == null || setting === false) return addresses
  const listen = addresses.listen ?? []
  return listen.includes(WEBRTC_LISTEN) ? addresses : { ...addresses, listen: [...listen, WEBRTC_LISTEN] }
}
