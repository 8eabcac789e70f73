/**
 * Link profiles for the NAT lab's WAN: what each router adds on its WAN
 * egress (the `wan` veth towards the `pub` bridge).
 *
 * Only egress is shaped, so a packet picks up one router's share per
 * crossing of a router's WAN link outwards:
 * - home a → pub: ra's egress (+d); pub → home a: nothing (ingress).
 *   RTT home ↔ pub ≈ d.
 * - home a → home b (direct UDP, or the relay's two TCP legs through pub):
 *   ra's egress (+d), back: rb's egress (+d). RTT home ↔ home ≈ 2d.
 * Loss p is drawn independently per packet on each router's egress, so a
 * home ↔ pub round trip sees p once, a home ↔ home round trip 2p (one per
 * direction), i.e. each direction of a home ↔ home flow loses ≈ p.
 *
 * `rtt40` therefore means ≈ 40 ms RTT between the two homes (≈ 20 ms to the
 * node in `pub`); `rtt100`: 100 ms (50 ms to `pub`).
 */
export interface WanProfile {
  name: string
  /** One-way delay in whole ms added on EACH router's WAN egress. */
  delayMs: number
  /** Probability (0..1) that a packet is dropped on EACH router's WAN egress. */
  loss: number
}

export type WanProfileName = 'lan' | 'rtt40' | 'rtt100' | 'rtt40-loss0.1' | 'rtt40-loss1'

export const WAN_PROFILES: readonly WanProfile[] = [
  { name: 'lan', delayMs: 0, loss: 0 },
  { name: 'rtt40', delayMs: 20, loss: 0 },
  { name: 'rtt100', delayMs: 50, loss: 0 },
  { name: 'rtt40-loss0.1', delayMs: 20, loss: 0.001 },
  { name: 'rtt40-loss1', delayMs: 20, loss: 0.01 }
]

export function wanProfile (profile: WanProfileName | WanProfile): WanProfile {
  if (typeof profile !== 'string') {
    if (!Number.isInteger(profile.delayMs) || profile.delayMs < 0 || !(profile.loss >= 0 && profile.loss < 1)) throw new Error(`bad WAN profile ${JSON.stringify(profile)}`)
    return profile
  }
  const found = WAN_PROFILES.find((p) => p.name === profile)
  if (found === undefined) throw new Error(`unknown WAN profile ${profile}; known: ${WAN_PROFILES.map((p) => p.name).join(', ')}`)
  return found
}
