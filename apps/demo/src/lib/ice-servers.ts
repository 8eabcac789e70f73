/**
 * The Settings page's ICE server list as the transport's `IceConfig`:
 * `null` keeps the transport's defaults, an empty list means none at all
 * (host candidates only: LAN, one machine, a lab).
 */
import type { IceConfig } from '@chiral/transport'

export function iceConfig (urls: string[] | null): IceConfig {
  if (urls === null) return {}
  return { iceServers: urls.map((u) => ({ urls: u })) }
}
