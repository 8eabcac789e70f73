import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { libp2pStreamChannel } from '../channels/libp2p-stream.js'
import { PathDialError } from '../errors.js'
import { methodOfConnection } from './connection-method.js'
import type { AbortOptions, MessageChannel, PathDialer, PeerTarget } from '@chiral/core'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RelayDialerInit {
  /** Largest message on the stream channel (default 4 MiB; both ends must agree). */
  maxMessageSize?: number
  /**
   * Reuse an open relayed connection to the peer instead of dialing a new one
   * (default true). New relayed connections are costly: libp2p accepts at most
   * 5 inbound connections per second from one host, and every relayed
   * connection comes from the relay's host.
   */
  reuseConnections?: boolean
  /**
   * A stream on a reused connection that is not open within this long means
   * the connection is dead (a NAT mapping or the relay gone before libp2p
   * noticed): it is aborted and a new one dialled, ms (default 5 s).
   */
  reuseStreamTimeout?: number
}

const log = logger('chiral:transport:relay')

/**
 * The relay path: opens the protocol stream on a relayed connection to the
 * peer and hands it back as a message channel with method `relay`. Reuses an
 * open relayed connection to the peer when there is one; otherwise dials the
 * peer's circuit-relay addresses (`…/p2p-circuit/p2p/<peer>`) in order with
 * `force: true`, so a direct connection the peer store knows of is never
 * taken instead. Streams run on limited connections (`runOnLimitedConnection`).
 */
export function relayDialer (node: Pick<Libp2p, 'dial' | 'getConnections'>, init: RelayDialerInit = {}): PathDialer {
  const channelOf = (stream: Stream): MessageChannel => libp2pStreamChannel(stream, {
    method: 'relay',
    ...(init.maxMessageSize === undefined ? {} : { maxMessageSize: init.maxMessageSize })
  })
  return {
    name: 'relay',
    method: 'relay',
    async dial (target: PeerTarget, protocol: string, options: AbortOptions = {}): Promise<MessageChannel> {
      if (init.reuseConnections !== false) {
        const open = node.getConnections()
          .filter((c) => c.remotePeer.toString() === target.peerId && c.status === 'open' && methodOfConnection(c) === 'relay')
        for (const connection of open) {
          const limit = AbortSignal.timeout(init.reuseStreamTimeout ?? 5000)
          try {
            const signal = options.signal == null ? limit : AbortSignal.any([options.signal, limit])
            const stream = await connection.newStream(protocol, { signal, runOnLimitedConnection: true })
            log('relayed stream to %s on an open connection', target.peerId)
            return channelOf(stream)
          } catch (err) {
            if (options.signal?.aborted === true) throw err
            log('open relayed connection to %s refused a stream - %e', target.peerId, err)
            if (limit.aborted) connection.abort(err as Error)
          }
        }
      }
      const addrs = circuitAddresses(target)
      if (addrs.length === 0) {
        throw new PathDialError(`Peer ${target.peerId} has no relay circuit address`)
      }
      const errors: Error[] = []
      for (const addr of addrs) {
        options.signal?.throwIfAborted()
        try {
          // libp2p may join this dial to another one in progress to the same
          // peer (another path's): the connection is then not ours to close,
          // so a wrong kind is refused, never closed.
          const connection = await node.dial(addr, { signal: options.signal, force: true })
          if (methodOfConnection(connection) !== 'relay') {
            throw new PathDialError(`Dialing ${addr.toString()} did not give a relayed connection`)
          }
          const stream = await connection.newStream(protocol, { signal: options.signal, runOnLimitedConnection: true })
          log('relayed stream to %s via %a', target.peerId, addr)
          return channelOf(stream)
        } catch (err) {
          if (options.signal?.aborted === true) throw err
          log('relay dial via %a failed - %e', addr, err)
          errors.push(err as Error)
        }
      }
      throw new PathDialError(`Could not reach ${target.peerId} through a relay: ${errors.map((e) => e.message).join('; ')}`, {
        cause: new AggregateError(errors)
      })
    }
  }
}

/** A peer's circuit addresses, each ending in `/p2p/<peer>`. */
export function circuitAddresses (target: PeerTarget): Multiaddr[] {
  const out: Multiaddr[] = []
  for (const raw of target.multiaddrs) {
    const addr = typeof raw === 'string' ? multiaddr(raw) : raw
    const parts = addr.getComponents()
    const circuit = parts.findIndex((c) => c.name === 'p2p-circuit')
    if (circuit < 0) continue
    // Skip WebRTC-over-circuit addresses: that is another path.
    if (parts.slice(circuit + 1).some((c) => c.name !== 'p2p')) continue
    const last = parts[parts.length - 1]
    out.push(last?.name === 'p2p' && circuit < parts.length - 1 ? addr : addr.encapsulate(`/p2p/${target.peerId}`))
  }
  return out
}
