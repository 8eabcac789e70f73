/**
 * Finds the relay multiaddrs a browser can dial when none are configured:
 * the Chiral node that runs the signaling server also reports its libp2p
 * addresses at `/health` on the same host and port.
 */

export interface HealthLike {
  peerId?: unknown
  multiaddrs?: unknown
}

/** The WebSocket multiaddrs in a node's health report, the page's own host first. */
export function browserRelayAddrs (health: HealthLike, preferHost?: string): string[] {
  if (!Array.isArray(health.multiaddrs)) return []
  const ws = health.multiaddrs
    .filter((a): a is string => typeof a === 'string')
    .filter((a) => /\/(ws|wss|tls\/ws)(\/|$)/.test(a) && !a.includes('/p2p-circuit'))
    .filter((a) => /\/p2p\/[^/]+$/.test(a))
  if (preferHost === undefined) return ws
  const same = ws.filter((a) => hostOf(a) === preferHost)
  return same.length > 0 ? same : ws
}

function hostOf (addr: string): string | undefined {
  return /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(addr)?.[1]
}

/** `ws://host:port/path` → `http://host:port/health`. */
export function healthUrl (signalingUrl: string): string {
  const url = new URL(signalingUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  url.pathname = '/health'
  url.search = ''
  return url.toString()
}

/** Asks the signaling server's node for its relay addresses. */
export async function fetchRelayAddrs (signalingUrl: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
  const response = await fetch(healthUrl(signalingUrl), { signal: options.signal ?? null, cache: 'no-store' })
  if (!response.ok) throw new Error(`${healthUrl(signalingUrl)} answered ${response.status}`)
  const health = await response.json() as HealthLike
  const addrs = browserRelayAddrs(health, new URL(signalingUrl).hostname)
  if (addrs.length === 0) throw new Error('The node reports no WebSocket address a browser could dial')
  return addrs
}
