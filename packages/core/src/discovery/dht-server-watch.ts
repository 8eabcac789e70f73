import { TypedEventEmitter } from 'main-event'
import type { Startable } from '../contracts/abort.js'
import type { IdentifyResult, Libp2p, PeerId } from '@libp2p/interface'

export interface DhtServerWatchInit {
  /** The DHT protocol a server lists in identify. */
  protocol: string
  /** Quiet time after the last return before `return` fires, ms. */
  debounce: number
}

export interface DhtServerReturnDetail {
  /** The DHT servers that came back during the burst. */
  servers: PeerId[]
}

export interface DhtServerWatchEvents {
  /** One or more DHT servers were identified again after having been away (one event per burst). */
  return: CustomEvent<DhtServerReturnDetail>
}

/**
 * Tells when a DHT server comes back: a peer whose identify lists the DHT
 * protocol is identified while it is not counted as present, i.e. for the
 * first time, or after all connections to it closed (a server restart, this
 * node's own network change).
 *
 * A server that restarted has lost every provider record it held in memory,
 * and a record it did keep may carry addresses this node no longer has, so
 * the owner re-announces on `return`. Identify runs again on every new
 * connection and on every identify push, so a server already present does
 * not count; unrelated peers never do.
 *
 * ```
 *   absent ──identify (DHT protocol)──► present ──peer:disconnect──► absent
 *      │                                   ▲
 *      └──► (debounced) `return` event      └── identify again: nothing
 * ```
 */
export class DhtServerWatch extends TypedEventEmitter<DhtServerWatchEvents> implements Startable {
  private readonly node: Libp2p
  private readonly init: DhtServerWatchInit
  private readonly present = new Set<string>()
  private readonly returned = new Map<string, PeerId>()
  private timer?: ReturnType<typeof setTimeout>
  private started = false

  constructor (node: Libp2p, init: DhtServerWatchInit) {
    super()
    this.node = node
    this.init = init
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    this.node.addEventListener('peer:identify', this.onIdentify)
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    // Servers connected before we started are present, not returning: their
    // next identify push must not look like a return.
    for (const peer of this.node.getPeers()) {
      try {
        const { protocols } = await this.node.peerStore.get(peer)
        if (protocols.includes(this.init.protocol)) this.present.add(peer.toString())
      } catch {
        // not in the peer store yet: its identify is still to come
      }
    }
  }

  async stop (): Promise<void> {
    this.started = false
    this.node.removeEventListener('peer:identify', this.onIdentify)
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    clearTimeout(this.timer)
    this.timer = undefined
    this.present.clear()
    this.returned.clear()
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail
    const key = peerId.toString()
    if (!protocols.includes(this.init.protocol) || this.present.has(key)) return
    // identify can finish after the connection it ran on already closed
    if (this.node.getConnections(peerId).length === 0) return
    this.present.add(key)
    this.returned.set(key, peerId)
    clearTimeout(this.timer)
    this.timer = setTimeout(this.fire, this.init.debounce)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.present.delete(evt.detail.toString())
  }

  private readonly fire = (): void => {
    this.timer = undefined
    if (!this.started || this.returned.size === 0) return
    const servers = [...this.returned.values()]
    this.returned.clear()
    this.safeDispatchEvent('return', { detail: { servers } })
  }
}
