import { KEEP_ALIVE } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { ComponentLogger, Logger, PeerStore, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RelayKeeperInit {
  /** Multiaddrs ending in `/p2p/<peer id>`. */
  addrs: string[]
}

export interface RelayKeeperComponents {
  peerStore: PeerStore
  logger: ComponentLogger
  connectionManager: { openConnection(addr: Multiaddr, options?: { signal?: AbortSignal }): Promise<unknown> }
}

/** Tag that makes libp2p reconnect to a peer whenever its connection drops. */
export const RELAY_TAG = `${KEEP_ALIVE}-chiral-relay`

/**
 * Keeps this node connected to its configured relays / DHT servers: tags them
 * keep-alive (libp2p's reconnect queue then redials them when a connection
 * drops) and dials them once the node has started.
 */
export class RelayKeeper implements Startable {
  private readonly addrs: Multiaddr[]
  private readonly components: RelayKeeperComponents
  private readonly log: Logger
  private controller?: AbortController

  constructor (components: RelayKeeperComponents, init: RelayKeeperInit) {
    this.components = components
    this.log = components.logger.forComponent('chiral:core:relay-keeper')
    this.addrs = init.addrs.map((a) => multiaddr(a))
    for (const addr of this.addrs) {
      if (addr.getComponents().findLast((c) => c.name === 'p2p') == null) {
        throw new TypeError(`Relay address must end in /p2p/<peer id>: ${addr.toString()}`)
      }
    }
  }

  start (): void {
    this.controller = new AbortController()
  }

  async afterStart (): Promise<void> {
    const signal = this.controller?.signal
    await Promise.all(this.addrs.map(async (addr) => {
      const id = addr.getComponents().findLast((c) => c.name === 'p2p')?.value
      if (id === undefined) return
      const peerId = peerIdFromString(id)
      await this.components.peerStore.merge(peerId, {
        multiaddrs: [addr],
        tags: { [RELAY_TAG]: { value: 100 } }
      })
      // Dial in the background: start() must not hang on an unreachable relay.
      this.components.connectionManager.openConnection(addr, { signal })
        .then(() => { this.log('connected to relay %a', addr) })
        .catch((err: Error) => { this.log.error('could not reach relay %a - %e', addr, err) })
    }))
  }

  stop (): void {
    this.controller?.abort()
  }
}

export function relayKeeper (init: RelayKeeperInit): (components: RelayKeeperComponents) => RelayKeeper {
  return (components) => new RelayKeeper(components, init)
}
