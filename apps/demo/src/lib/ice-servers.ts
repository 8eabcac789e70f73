/**
 * The Settings page's ICE server list as the peer's `iceServers`: `null`
 * keeps the transport's public STUN list (on any network: the page cannot
 * tell where the person that downloads sits), an empty list means none at
 * all (host candidates only: LAN, one machine, a lab).
 */
import { DEFAULT_ICE_SERVERS } from '@chiral/transport'

export function iceServersOf (urls: string[] | null): RTCIceServer[] {
  if (urls === null) return DEFAULT_ICE_SERVERS.map((s) => ({ ...s }))
  return urls.map((u) => ({ urls: u }))
}
