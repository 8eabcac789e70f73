import { DCUTR_PROTOCOL } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { libp2pStreamChannel } from '../channels/libp2p-stream.js'
import { NoDirectConnectionError, PathDialError } from '../errors.js'
import { methodOfConnection } from './connection-method.js'
import { circuitAddresses } from './relay.js'
import type { AbortOptions, DirectTcpService, MessageChannel, PathDialer, PeerTarget } from '@chiral/core'
import type { Connection, IdentifyResult, Libp2p, Stream } from '@libp2p/interface'

export interface DcutrDialerInit {
  /** Largest message on the stream channel (default 4 MiB; both ends must agree). */
  maxMessageSize?: number
  /** How long to wait for the relayed connection to be upgraded to direct TCP, ms (default 10 s). */
  upgradeTimeout?: number
  /**
   * After a hole punch attempt failed, how long to wait for the peer's next
   * attempt before giving up, ms (default 1500). The peer starts attempts
   * (it is the inbound side of the relayed connection), so only it knows
   * whether another one follows.
   */
  retryGrace?: number
}

/** What the dialer needs of a libp2p node. `services.dcutr` (core's `directTcp`) makes it fail fast. */
export type DcutrDialerNode = Pick<Libp2p, 'dial' | 'getConnections' | 'getProtocols' | 'addEventListener' | 'removeEventListener' | 'peerStore'> & {
  services?: Record<string, unknown>
}

const log = logger('chiral:transport:dcutr')

/**
 * The dcutr path: a direct TCP connection made by hole punching (libp2p's
 * DCUtR over the relayed connection; core's `createNode({ directTcp })` on
 * both peers). Joins or makes the relayed connection to the peer
 * (`<relay>/p2p-circuit/p2p/<peer>`, not forced, so a dial in progress is
 * joined), waits — bounded by the signal and `upgradeTimeout` — until a
 * direct TCP connection to the peer is open, and opens the protocol stream
 * on it as a message channel with method `tcp-direct`. A direct TCP
 * connection already open is used at once.
 *
 * The upgrade is not this dialer's doing: the inbound side of the relayed
 * connection starts the exchange after identify, and both sides punch. So
 * this dialer never closes a connection, the relayed one included.
 *
 * Fails with `NoDirectConnectionError` when this node has no DCUtR service
 * or no observed TCP address, when the peer's identify shows no
 * `/libp2p/dcutr`, when the peer's last attempt failed and no other came
 * within `retryGrace`, or at `upgradeTimeout`.
 */
export function dcutrDialer (node: DcutrDialerNode, init: DcutrDialerInit = {}): PathDialer {
  const channelOf = (stream: Stream): MessageChannel => libp2pStreamChannel(stream, {
    method: 'tcp-direct',
    ...(init.maxMessageSize === undefined ? {} : { maxMessageSize: init.maxMessageSize })
  })
  const upgradeTimeout = init.upgradeTimeout ?? 10_000
  const retryGrace = init.retryGrace ?? 1500
  return {
    name: 'dcutr',
    method: 'tcp-direct',
    async dial (target: PeerTarget, protocol: string, options: AbortOptions = {}): Promise<MessageChannel> {
      options.signal?.throwIfAborted()
      const open = directConnection(node, target.peerId)
      if (open != null) {
        log('stream to %s on an open direct TCP connection', target.peerId)
        return channelOf(await open.newStream(protocol, { signal: options.signal }))
      }
      if (!node.getProtocols().includes(DCUTR_PROTOCOL)) {
        throw new NoDirectConnectionError('This node has no DCUtR service (core: createNode({ directTcp }))')
      }
      const service = directTcpService(node)
      if (service !== undefined && service.observedAddresses().length === 0) {
        throw new NoDirectConnectionError('This node has no observed TCP address to punch from (no outbound TCP connection to a relay or DHT node yet)')
      }
      const started = Date.now()
      const stop = new AbortController()
      const timeout = AbortSignal.timeout(upgradeTimeout)
      const signal = AbortSignal.any([timeout, stop.signal, ...(options.signal == null ? [] : [options.signal])])
      const upgraded = waitForDirect(node, service, target.peerId, signal, retryGrace)
      upgraded.catch(() => {})
      try {
        const relayed = await relayedConnection(node, target, signal)
        if (relayed != null) void failIfPeerLacksDcutr(node, relayed, stop)
        const connection = await upgraded.catch((err: unknown) => {
          if (options.signal?.aborted === true) throw options.signal.reason
          if (timeout.aborted) throw new NoDirectConnectionError(`No direct TCP connection to ${target.peerId} within ${upgradeTimeout} ms`)
          if (stop.signal.aborted && stop.signal.reason instanceof Error) throw stop.signal.reason
          throw err
        })
        log('direct TCP connection to %s after %d ms via %a', target.peerId, Date.now() - started, connection.remoteAddr)
        return channelOf(await connection.newStream(protocol, { signal: options.signal }))
      } finally {
        stop.abort()
      }
    }
  }
}

/** An open direct TCP connection to the peer, if any. */
function directConnection (node: Pick<Libp2p, 'getConnections'>, peerId: string): Connection | undefined {
  return node.getConnections().find((c) => c.remotePeer.toString() === peerId && c.status === 'open' && methodOfConnection(c) === 'tcp-direct')
}

/** `node.services.dcutr` when it is core's DirectTcpService. */
function directTcpService (node: DcutrDialerNode): DirectTcpService | undefined {
  const candidate = node.services?.dcutr as Partial<DirectTcpService> | undefined
  return typeof candidate?.observedAddresses === 'function' && typeof candidate.addEventListener === 'function'
    ? candidate as DirectTcpService
    : undefined
}

/**
 * An open connection to the peer (the relayed one the hole punch runs on),
 * made through its circuit addresses when there is none. Undefined when the
 * dial gave a direct TCP connection (the waiter sees that one too).
 */
async function relayedConnection (node: DcutrDialerNode, target: PeerTarget, signal: AbortSignal): Promise<Connection | undefined> {
  const open = node.getConnections().find((c) => c.remotePeer.toString() === target.peerId && c.status === 'open')
  if (open != null) return open
  const addrs = circuitAddresses(target)
  if (addrs.length === 0) throw new PathDialError(`Peer ${target.peerId} has no relay circuit address`)
  const errors: Error[] = []
  for (const addr of addrs) {
    signal.throwIfAborted()
    try {
      const connection = await node.dial(addr, { signal })
      return methodOfConnection(connection) === 'tcp-direct' ? undefined : connection
    } catch (err) {
      if (signal.aborted) throw err
      log('relayed connection via %a failed - %e', addr, err)
      errors.push(err as Error)
    }
  }
  throw new PathDialError(`Could not reach ${target.peerId} through a relay to hole punch: ${errors.map((e) => e.message).join('; ')}`, {
    cause: new AggregateError(errors)
  })
}

/** Stops the wait when the peer store already shows the peer has no DCUtR (identify done before). */
async function failIfPeerLacksDcutr (node: DcutrDialerNode, relayed: Connection, stop: AbortController): Promise<void> {
  try {
    const peer = await node.peerStore.get(relayed.remotePeer)
    if (peer.protocols.length > 0 && !peer.protocols.includes(DCUTR_PROTOCOL)) {
      stop.abort(new NoDirectConnectionError(`Peer ${relayed.remotePeer.toString()} does not speak ${DCUTR_PROTOCOL}`))
    }
  } catch {}
}

/**
 * Resolves with the first open direct TCP connection to `peerId`; rejects
 * when `signal` aborts, when the peer's identify shows no DCUtR, or when
 * the service saw a final failed attempt (or a failed one and no next one
 * within `retryGrace`).
 */
async function waitForDirect (node: DcutrDialerNode, service: DirectTcpService | undefined, peerId: string, signal: AbortSignal, retryGrace: number): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    let grace: ReturnType<typeof setTimeout> | undefined
    const cleanup = (): void => {
      clearTimeout(grace)
      node.removeEventListener('connection:open', onOpen)
      node.removeEventListener('peer:identify', onIdentify)
      service?.removeEventListener('hole-punch:attempt', onAttempt)
      service?.removeEventListener('hole-punch:failed', onFailed)
      signal.removeEventListener('abort', onAbort)
    }
    const done = (connection?: Connection, error?: Error): void => {
      cleanup()
      if (connection != null) resolve(connection)
      else reject(error)
    }
    const onOpen = (evt: CustomEvent<Connection>): void => {
      const c = evt.detail
      if (c.remotePeer.toString() === peerId && c.status === 'open' && methodOfConnection(c) === 'tcp-direct') done(c)
    }
    const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
      const { peerId: peer, protocols, connection } = evt.detail
      if (peer.toString() === peerId && methodOfConnection(connection) === 'relay' && !protocols.includes(DCUTR_PROTOCOL)) {
        done(undefined, new NoDirectConnectionError(`Peer ${peerId} does not speak ${DCUTR_PROTOCOL}`))
      }
    }
    const onAttempt = (evt: CustomEvent<{ peerId: string }>): void => {
      if (evt.detail.peerId === peerId) { clearTimeout(grace); grace = undefined }
    }
    const onFailed = (evt: CustomEvent<{ peerId: string, error: Error, final: boolean }>): void => {
      if (evt.detail.peerId !== peerId) return
      const error = new NoDirectConnectionError(`Hole punch to ${peerId} failed: ${evt.detail.error.message}`, { cause: evt.detail.error })
      if (evt.detail.final) { done(undefined, error); return }
      clearTimeout(grace)
      grace = setTimeout(() => { done(undefined, error) }, retryGrace)
    }
    const onAbort = (): void => { done(undefined, signal.reason instanceof Error ? signal.reason : new NoDirectConnectionError('Aborted')) }
    if (signal.aborted) { onAbort(); return }
    node.addEventListener('connection:open', onOpen)
    node.addEventListener('peer:identify', onIdentify)
    service?.addEventListener('hole-punch:attempt', onAttempt)
    service?.addEventListener('hole-punch:failed', onFailed)
    signal.addEventListener('abort', onAbort, { once: true })
    const open = directConnection(node, peerId)
    if (open != null) done(open)
  })
}
