/**
 * Whether a peer talks to a node on a private network (loopback, a LAN, a
 * lab). Such a peer needs private addresses accepted, and gains nothing from
 * public STUN servers: everyone who reaches that node reaches the others on
 * their host addresses.
 */
const PRIVATE_V4: Array<[number, number]> = [
  [0x7f000000, 8], // 127.0.0.0/8 loopback
  [0x0a000000, 8], // 10.0.0.0/8
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0xa9fe0000, 16], // 169.254.0.0/16 link-local
  [0xc6120000, 15] // 198.18.0.0/15 benchmarking networks
]

/** True for loopback, private, link-local and benchmarking addresses, and `localhost`. */
export function isPrivateHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(h)) {
    const n = h.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0
    return PRIVATE_V4.some(([net, bits]) => (n >>> (32 - bits)) === (net >>> (32 - bits)))
  }
  if (h.includes(':')) return h === '::1' || /^f[cd]/.test(h) || /^fe[89ab]/.test(h)
  return false
}

/** The host a relay multiaddr or a signaling URL names. */
export function hostOfTarget (target: string): string | undefined {
  if (target.startsWith('/')) return /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(target)?.[1]
  try {
    return new URL(target).hostname
  } catch {
    return undefined
  }
}

/** True when every given node address is on a private network (and there is one). */
export function onPrivateNetwork (targets: string[]): boolean {
  const hosts = targets.map(hostOfTarget)
  return hosts.length > 0 && hosts.every((h) => h !== undefined && isPrivateHost(h))
}
