import { KEEP_ALIVE } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { ComponentLogger, Connection, Logger, PeerId, PeerStore, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RelayKeeperInit {
  /** Multiaddrs ending in `/p2p/<peer id>`. */
  addrs: string[]
  /** Pause before dialing again a peer whose dial failed, ms (default 1 s); it doubles on each failure. */
  redialDelay?: number
  /** The longest such pause, ms (default 10 s): a peer back from a long outage is reached within this. */
  maxRedialDelay?: number
}

export interface RelayKeeperComponents {
  peerId: PeerId
  peerStore: PeerStore
  logger: ComponentLogger
  connectionManager: {
    openConnection(addr: Multiaddr, options?: { signal?: AbortSignal }): Promise<unknown>
    getConnections(peerId?: PeerId): Connection[]
  }
}

/** Tag that makes libp2p reconnect to a peer whenever its connection drops. */
export const RELAY_TAG = `${KEEP_ALIVE}-chiral-relay`

export const DEFAULT_REDIAL_DELAY = 1000
export const DEFAULT_MAX_REDIAL_DELAY = 10_000

/** A relay / bootstrap peer a node keeps a connection to. */
export interface KeptPeerStatus {
  /** The configured address. */
  multiaddr: string
  peerId: string
  /** An open connection to it exists now. */
  connected: boolean
}

/** One kept peer: where to dial it, and how its dials went. */
interface Kept {
  addr: Multiaddr
  peerId: PeerId
  dialing: boolean
  /** Dials that failed in a row. */
  failures: number
  /** Not before this (ms since epoch). */
  nextDialAt: number
}

/**
 * Keeps this node connected to its configured relays / DHT servers (a
 * peer's relays, a server's bootstrap peers): tags them keep-alive, dials
 * them once the node has started, and dials again whenever one is not
 * connected — at once after a drop, then after a pause that doubles with
 * every failed dial up to `maxRedialDelay`.
 *
 * libp2p's reconnect queue also redials keep-alive peers, but its pause
 * grows by 1.5× with no ceiling (after ten minutes down a peer waits minutes
 * for the next try), and it gives up after its retries and drops the tag.
 * Here a peer that comes back is reached within `maxRedialDelay`, however
 * long it was away. Its own address in the list is skipped (one list for
 * every instance of a deployment).
 *
 * ```
 *   per peer:  connected ──drop──► dial ──ok──► connected
 *                                   │ fails
 *                                   ▼
 *                     wait 1 s, 2 s, 4 s … ≤ max ──► dial
 * ```
 */
export class RelayKeeper implements Startable {
  private readonly kept: Kept[]
  private readonly components: RelayKeeperComponents
  private readonly log: Logger
  private readonly redialDelay: number
  private readonly maxRedialDelay: number
  private controller?: AbortController
  private timer?: ReturnType<typeof setInterval>

  constructor (components: RelayKeeperComponents, init: RelayKeeperInit) {
    this.components = components
    this.log = components.logger.forComponent('chiral:core:relay-keeper')
    this.redialDelay = init.redialDelay ?? DEFAULT_REDIAL_DELAY
    this.maxRedialDelay = Math.max(this.redialDelay, init.maxRedialDelay ?? DEFAULT_MAX_REDIAL_DELAY)
    const seen = new Set<string>()
    this.kept = []
    for (const text of init.addrs) {
      const addr = multiaddr(text)
      const id = addr.getComponents().findLast((c) => c.name === 'p2p')?.value
      if (id === undefined) throw new TypeError(`Relay address must end in /p2p/<peer id>: ${addr.toString()}`)
      const peerId = peerIdFromString(id)
      if (peerId.toString() === components.peerId.toString() || seen.has(addr.toString())) continue
      seen.add(addr.toString())
      this.kept.push({ addr, peerId, dialing: false, failures: 0, nextDialAt: 0 })
    }
  }

  readonly [Symbol.toStringTag] = 'chiral:relay-keeper'

  start (): void {
    this.controller = new AbortController()
  }

  async afterStart (): Promise<void> {
    await Promise.all(this.kept.map(async ({ addr, peerId }) => {
      await this.components.peerStore.merge(peerId, {
        multiaddrs: [addr],
        tags: { [RELAY_TAG]: { value: 100 } }
      })
    }))
    // Dial in the background: start() must not hang on an unreachable relay.
    this.check()
    this.timer = setInterval(() => { this.check() }, Math.min(1000, this.redialDelay))
    this.timer.unref?.()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.controller?.abort()
    this.controller = undefined
  }

  /** The kept peers (not this node itself) and whether each has an open connection now. */
  status (): KeptPeerStatus[] {
    return this.kept.map((k) => ({ multiaddr: k.addr.toString(), peerId: k.peerId.toString(), connected: this.connected(k) }))
  }

  private connected (k: Kept): boolean {
    return this.components.connectionManager.getConnections(k.peerId).some((c) => c.status === 'open')
  }

  /** Dials every kept peer that is not connected, is not being dialed, and whose pause is over. */
  private check (now = Date.now()): void {
    const signal = this.controller?.signal
    if (signal === undefined || signal.aborted) return
    for (const k of this.kept) {
      if (k.dialing || now < k.nextDialAt || this.connected(k)) continue
      k.dialing = true
      this.components.connectionManager.openConnection(k.addr, { signal })
        .then(() => {
          if (k.failures > 0) this.log('connected to %a again after %d failed dial(s)', k.addr, k.failures)
          else this.log('connected to %a', k.addr)
          k.failures = 0
          k.nextDialAt = 0
        }, (err: Error) => {
          if (signal.aborted) return
          k.failures++
          const pause = Math.min(this.maxRedialDelay, this.redialDelay * 2 ** Math.min(k.failures - 1, 20))
          k.nextDialAt = Date.now() + pause
          if (k.failures === 1) this.log.error('could not reach %a, dialing again in %d ms - %e', k.addr, pause, err)
          else this.log('could not reach %a (%d failures), dialing again in %d ms - %e', k.addr, k.failures, pause, err)
        })
        .finally(() => { k.dialing = false })
    }
  }
}

/**
 * The relays / bootstrap peers `node` keeps connections to (its own address
 * left out), and whether each is connected now; none when it has none.
 */
export function keptPeers (node: { services: Record<string, unknown> }): KeptPeerStatus[] {
  const keeper = node.services.relayKeeper as { status?: () => KeptPeerStatus[] } | undefined
  return typeof keeper?.status === 'function' ? keeper.status() : []
}

export function relayKeeper (init: RelayKeeperInit): (components: RelayKeeperComponents) => RelayKeeper {
  return (components) => new RelayKeeper(components, init)
}
