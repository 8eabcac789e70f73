/**
 * Whether this node can be dialled directly from the internet, as AutoNAT v2
 * (`@libp2p/autonat-v2`, served by every `server` node and run as a client by
 * `peer` nodes) finds out.
 *
 * How libp2p 3's AutoNAT v2 client works (read from @libp2p/autonat-v2 2.0.x):
 * when a peer that serves AutoNAT connects, the client sends it the node's
 * own addresses that are not yet verified and not private (`isPrivate` from
 * @libp2p/utils: RFC 1918, loopback, CGNAT, the benchmarking and
 * documentation ranges, …; IPv6 only if global unicast). The server dials
 * each one back on a new connection (after asking for 30–100 kB of data when
 * the address's IP is not the one the request came from). One successful
 * dial-back confirms a listen address; an address only observed by others
 * (identify) needs 4, from 4 different /8 (IPv4) networks. The result lands
 * in libp2p's address manager (the address is marked verified, and
 * `self:peer:update` fires); the client emits no events of its own. A
 * failure needs 8 servers to count, so an address that cannot be dialled
 * simply stays unverified: "not confirmed within the check window" is what
 * a NAT or a firewall looks like here. libp2p 3's identify also drops every
 * observed TCP address (js-libp2p#2620), so a Node peer behind a NAT whose
 * listen addresses are all on its LAN has nothing public to ask about at
 * all: `no-public-address`.
 *
 * What counts (`computeReachability`): an address confirmed this way that is
 * a direct one (not a relay circuit, which the relay listener marks verified
 * itself) and not private. Private addresses are always "verified" in libp2p
 * (usable locally) and never checked; announced addresses (`announce`) are
 * taken as given and never checked either, so neither makes a node `public`.
 */
import { isGlobalUnicast, isLinkLocal, isLoopback, isNetworkAddress, isPrivate, tryGetNetConfig } from '@libp2p/utils'
import { TypedEventEmitter } from 'main-event'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The protocol an AutoNAT v2 server handles (libp2p's default prefix). */
export const AUTONAT_V2_DIAL_REQUEST = '/libp2p/autonat/2/dial-request'

/** How long the check waits for a dial-back once an AutoNAT server is connected, ms (default). */
export const DEFAULT_REACHABILITY_WINDOW = 10_000

/**
 * Why a node is not publicly reachable:
 * - `relay-only`: it listens on no direct address at all, only through relay
 *   reservations (browsers; Chiral peers without `listen`).
 * - `no-public-address`: it listens directly, but only on private, LAN or
 *   loopback addresses, and nobody reported a public address for it: the
 *   usual case behind a NAT.
 * - `not-confirmed`: it has public-looking addresses (`candidates`: its own,
 *   or ones others saw it connect from), but no AutoNAT server dialled one
 *   back within the check window: a firewall, or a NAT in front of a public
 *   listen address (or, with `servers: 0`, no AutoNAT server was reached).
 */
export type PrivateReason = 'relay-only' | 'no-public-address' | 'not-confirmed'

/** Whether other peers can dial this node directly. */
export type Reachability =
  /** Not started. */
  | { status: 'unknown' }
  /** Public-looking addresses are waiting for a dial-back (within the check window). */
  | { status: 'checking', candidates: string[], servers: number }
  /** An AutoNAT server dialled these direct addresses back: others can dial them. */
  | { status: 'public', addresses: string[] }
  /** Only reachable through a relay (or a hole punch). */
  | { status: 'private', reason: PrivateReason, candidates: string[], servers: number }

/** One of the node's addresses as libp2p's address manager reports it (`getAddressesWithMetadata()`). */
export interface AddressInfo {
  multiaddr: Multiaddr
  verified: boolean
  type: string
}

export interface ReachabilityInput {
  /** The configured listen addresses (`addressManager.getListenAddrs()`). */
  listen: Multiaddr[]
  addresses: AddressInfo[]
  /** AutoNAT servers met so far. */
  servers: number
  /** Whether the check window is over. */
  windowOver: boolean
}

/** The address types AutoNAT v2 can confirm (announced and DNS-mapped ones are verified by configuration). */
const CHECKED_TYPES = new Set(['transport', 'observed', 'ip-mapping'])

/** A direct address (not a relay circuit) on a public IP. */
export function isPublicDirectAddress (ma: Multiaddr): boolean {
  if (ma.getComponents().some((c) => c.name === 'p2p-circuit')) return false
  const config = tryGetNetConfig(ma)
  if (config === null || (config.type !== 'ip4' && config.type !== 'ip6')) return false
  if (isPrivate(ma) || isLoopback(ma) || isLinkLocal(ma)) return false
  return config.type === 'ip4' || isGlobalUnicast(ma)
}

/** The reachability the node's addresses and the AutoNAT results so far amount to. */
export function computeReachability (input: ReachabilityInput): Reachability {
  const checked = input.addresses.filter((a) => CHECKED_TYPES.has(a.type) && isPublicDirectAddress(a.multiaddr))
  const confirmed = unique(checked.filter((a) => a.verified).map((a) => a.multiaddr.toString()))
  if (confirmed.length > 0) return { status: 'public', addresses: confirmed }
  const candidates = unique(checked.map((a) => a.multiaddr.toString()))
  const servers = input.servers
  const direct = input.listen.some((ma) => isNetworkAddress(ma) && !ma.getComponents().some((c) => c.name === 'p2p-circuit'))
  if (!direct) return { status: 'private', reason: 'relay-only', candidates, servers }
  if (!input.windowOver) return { status: 'checking', candidates, servers }
  return { status: 'private', reason: candidates.length === 0 ? 'no-public-address' : 'not-confirmed', candidates, servers }
}

export interface ReachabilityInit {
  /**
   * How long to wait for a dial-back once the first AutoNAT server is
   * connected (or from the start, while none is), ms (default 10 s). Until
   * then a node with direct listeners is `checking`; a confirmation that
   * comes later still turns it `public`.
   */
  window?: number
}

export interface ReachabilityComponents {
  addressManager: {
    getListenAddrs(): Multiaddr[]
    getAddressesWithMetadata(): AddressInfo[]
  }
  registrar: {
    register(protocol: string, topology: { onConnect?(peerId: PeerId): void, onDisconnect?(peerId: PeerId): void }): Promise<string>
    unregister(id: string): void
  }
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface ReachabilityEvents {
  /** The reachability changed. */
  'reachability': CustomEvent<Reachability>
}

/**
 * Follows the node's reachability (`state`, `reachability` events): listens
 * for AutoNAT servers connecting (to start the check window) and for the
 * node's own address changes (where AutoNAT's confirmations land).
 */
export class ReachabilityService extends TypedEventEmitter<ReachabilityEvents> implements Startable {
  private readonly components: ReachabilityComponents
  private readonly window: number
  private readonly log: Logger
  private current: Reachability = { status: 'unknown' }
  private readonly servers = new Set<string>()
  private windowEnds = 0
  private timer?: ReturnType<typeof setTimeout>
  private poll?: ReturnType<typeof setInterval>
  private topologyId?: string
  private running = false
  private readonly onUpdate = (): void => { this.update() }

  constructor (components: ReachabilityComponents, init: ReachabilityInit = {}) {
    super()
    this.components = components
    this.window = init.window ?? DEFAULT_REACHABILITY_WINDOW
    this.log = components.logger.forComponent('chiral:core:reachability')
  }

  readonly [Symbol.toStringTag] = '@chiral/reachability'

  get state (): Reachability {
    return this.current
  }

  async start (): Promise<void> {
    this.running = true
    this.servers.clear()
    this.setWindow(Date.now() + this.window)
    this.topologyId = await this.components.registrar.register(AUTONAT_V2_DIAL_REQUEST, {
      onConnect: (peerId) => {
        const first = this.servers.size === 0
        this.servers.add(peerId.toString())
        // The window runs from the first AutoNAT server on: before, nobody could check.
        if (first) this.setWindow(Date.now() + this.window)
        this.update()
      }
    })
    this.components.events.addEventListener('self:peer:update', this.onUpdate)
    // libp2p writes confirmations to the peer store through a debounce: look every second too.
    this.poll = setInterval(this.onUpdate, 1000)
    this.poll.unref?.()
    this.update()
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
    clearInterval(this.poll)
    this.components.events.removeEventListener('self:peer:update', this.onUpdate)
    if (this.topologyId !== undefined) this.components.registrar.unregister(this.topologyId)
    this.topologyId = undefined
    this.current = { status: 'unknown' }
  }

  private setWindow (at: number): void {
    this.windowEnds = at
    clearTimeout(this.timer)
    this.timer = setTimeout(this.onUpdate, Math.max(0, at - Date.now()))
    this.timer.unref?.()
  }

  private update (): void {
    if (!this.running) return
    const am = this.components.addressManager
    const next = computeReachability({
      listen: am.getListenAddrs(),
      addresses: am.getAddressesWithMetadata(),
      servers: this.servers.size,
      windowOver: Date.now() >= this.windowEnds
    })
    if (JSON.stringify(next) === JSON.stringify(this.current)) return
    this.current = next
    this.log('reachability %s %j', next.status, next)
    this.safeDispatchEvent('reachability', { detail: next })
  }
}

/** The reachability service for libp2p's `services`. */
export function reachability (init: ReachabilityInit = {}): (components: ReachabilityComponents) => ReachabilityService {
  return (components) => new ReachabilityService(components, init)
}

/** A node's reachability: its `reachability` service's state (`unknown` without one, e.g. on a `server`). */
export function reachabilityOf (node: { services: Record<string, unknown> }): Reachability {
  const service = node.services.reachability as { state?: Reachability } | undefined
  return service?.state ?? { status: 'unknown' }
}

function unique (list: string[]): string[] {
  return [...new Set(list)]
}
