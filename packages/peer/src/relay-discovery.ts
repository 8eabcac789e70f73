/**
 * Finds the relay multiaddrs of the node that runs a signaling server, when
 * a peer is given none: the node reports its libp2p addresses at `/health`
 * on the signaling server's host and port. With several signaling servers
 * (instances of one deployment), the relays of every node that answers.
 */
import { ChiralError } from '@chiral/core'
import { demoUrlOf } from './share-link.js'
import type { AbortOptions } from '@chiral/core'

/** The node that runs the signaling server could not tell its relay addresses. */
export class RelayLookupError extends ChiralError {
  static override readonly code = 'relay-lookup-failed'
}

export interface HealthLike {
  peerId?: unknown
  multiaddrs?: unknown
}

export interface RelayPick {
  /** Browsers dial WebSockets only; Node prefers TCP. */
  browser: boolean
  /** Addresses on this host first (the one the signaling URL names). */
  preferHost?: string
}

/** The relay addresses in a node's health report a peer of this kind can dial, `preferHost`'s first. */
export function relayAddrsFromHealth (health: HealthLike, pick: RelayPick): string[] {
  if (!Array.isArray(health.multiaddrs)) return []
  const all = health.multiaddrs
    .filter((a): a is string => typeof a === 'string')
    .filter((a) => !a.includes('/p2p-circuit') && /\/p2p\/[^/]+$/.test(a))
  const ws = all.filter((a) => /\/(ws|wss|tls\/ws)(\/|$)/.test(a))
  const tcp = all.filter((a) => /\/tcp\/\d+\/p2p\//.test(a))
  const usable = pick.browser ? ws : (tcp.length > 0 ? tcp : ws)
  if (pick.preferHost === undefined) return usable
  const same = usable.filter((a) => hostOf(a) === pick.preferHost)
  return same.length > 0 ? same : usable
}

function hostOf (addr: string): string | undefined {
  return /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(addr)?.[1]
}

/** `ws://host:port/path` → `http://host:port/health`. */
export function healthUrl (signalingUrl: string): string {
  return new URL('/health', demoUrlOf(signalingUrl)).toString()
}

/** Asks the signaling server's node for its relay addresses. Throws `RelayLookupError`, naming the URL and what failed. */
export async function fetchRelayAddrs (signalingUrl: string, pick: Omit<RelayPick, 'preferHost'>, options: AbortOptions = {}): Promise<string[]> {
  const url = healthUrl(signalingUrl)
  let health: HealthLike
  try {
    const response = await fetch(url, { signal: options.signal ?? null, cache: 'no-store' })
    if (!response.ok) throw new Error(`it answered HTTP ${response.status}`)
    health = await response.json() as HealthLike
  } catch (err) {
    throw new RelayLookupError(`Cannot ask ${url} for the relay's addresses: ${networkReason(err)}`, { cause: err })
  }
  const addrs = relayAddrsFromHealth(health, { ...pick, preferHost: new URL(signalingUrl).hostname })
  if (addrs.length === 0) throw new RelayLookupError(`${url} reports no relay address a ${pick.browser ? 'browser' : 'Node peer'} could dial`)
  return addrs
}

/**
 * The most telling part of a failed `fetch()`: a system error code
 * (`ECONNREFUSED`) from its causes, else its message and its causes'
 * (`fetch failed: bad port`).
 */
function networkReason (err: unknown): string {
  const seen = new Set<unknown>()
  const messages: string[] = []
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.shift() as { code?: unknown, message?: unknown, cause?: unknown, errors?: unknown[] } | undefined
    if (e == null || seen.has(e)) continue
    seen.add(e)
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code
    if (typeof e.message === 'string' && e.message !== '' && !messages.includes(e.message)) messages.push(e.message)
    if (e.cause !== undefined) queue.push(e.cause)
    if (Array.isArray(e.errors)) queue.push(...e.errors)
  }
  return messages.join(': ')
}

/** After the first node answered, how long the others may still take, ms. */
export const DEFAULT_LOOKUP_GRACE = 2000

/**
 * Asks every signaling URL's node for its relay addresses at once and
 * resolves with those of all that answered (in URL order, no duplicates).
 * Once one has answered the others get `grace` ms more: a dead instance
 * must not hold up the start, one that answers a little later still counts.
 * Throws the first URL's `RelayLookupError` when none answered.
 */
export async function fetchRelayAddrsOfAll (signalingUrls: string[], pick: Omit<RelayPick, 'preferHost'>, options: AbortOptions & { grace?: number } = {}): Promise<string[]> {
  if (signalingUrls.length === 1) return fetchRelayAddrs(signalingUrls[0]!, pick, options)
  const controller = new AbortController()
  const signal = options.signal === undefined ? controller.signal : AbortSignal.any([options.signal, controller.signal])
  const results: Array<string[] | Error | undefined> = signalingUrls.map(() => undefined)
  let timer: ReturnType<typeof setTimeout> | undefined
  await new Promise<void>((resolve) => {
    let pending = signalingUrls.length
    signalingUrls.forEach((url, i) => {
      fetchRelayAddrs(url, pick, { signal })
        .then((addrs) => {
          results[i] = addrs
          timer ??= setTimeout(resolve, options.grace ?? DEFAULT_LOOKUP_GRACE)
        }, (err: Error) => { results[i] = err })
        .finally(() => { if (--pending === 0) resolve() })
    })
  })
  clearTimeout(timer)
  controller.abort()
  const addrs = [...new Set(results.flatMap((r) => Array.isArray(r) ? r : []))]
  if (addrs.length > 0) return addrs
  throw results.find((r): r is Error => r instanceof Error) ?? new RelayLookupError(`None of ${signalingUrls.join(', ')} reported relay addresses`)
}
