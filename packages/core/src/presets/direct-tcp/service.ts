import { lpStream } from '@libp2p/utils'
import { TypedEventEmitter } from 'main-event'
import { isDirectTcp, isPlainTcp, isRelayed, ObservedTcpAddresses, punchableAddresses, withoutPeer } from './addresses.js'
import { HolePunchFailedError } from './errors.js'
import { DCUTR_PROTOCOL, decodeHolePunch, encodeHolePunch, HolePunchType, MAX_HOLE_PUNCH_MESSAGE } from './message.js'
import type { ComponentLogger, Connection, IdentifyResult, Logger, MultiaddrConnection, PeerId, Stream, StreamHandler, StreamHandlerOptions, Transport, Upgrader, UpgraderOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DirectTcpInit {
  /** The local port every outbound TCP connection of the node leaves from (the node's TCP transport binds it). */
  port: number
  /** Offer and dial private addresses (labs, LANs). Off: only public ones, like libp2p's DCUtR. */
  allowPrivateAddresses?: boolean
  /** Time limit of one exchange and its punch, ms (default 3000). */
  timeout?: number
  /** Exchanges per relayed connection before giving up (default 3). */
  attempts?: number
}

/** The libp2p components the service uses (a libp2p node's own components fit). */
export interface DirectTcpComponents {
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string): Promise<void>
  }
  /** Finds the TCP transport, dialed directly (libp2p's dial queue would drop the options a simultaneous open needs). */
  transportManager: {
    dialTransportForMultiaddr(addr: Multiaddr): Transport | undefined
  }
  upgrader: Upgrader
  connectionManager: { getConnections(peerId?: PeerId): Connection[] }
  events: {
    addEventListener(type: 'peer:identify', listener: (evt: CustomEvent<IdentifyResult>) => void): void
    removeEventListener(type: 'peer:identify', listener: (evt: CustomEvent<IdentifyResult>) => void): void
  }
  logger: ComponentLogger
}

export type HolePunchRole = 'initiator' | 'responder'

export interface HolePunchAttemptDetail { peerId: string, role: HolePunchRole }
export interface HolePunchFailedDetail extends HolePunchAttemptDetail {
  error: Error
  /** No later attempt will follow for this relayed connection (as far as this node knows). */
  final: boolean
}
export interface DirectConnectionDetail extends HolePunchAttemptDetail {
  connection: Connection
  /** Time from the start of the upgrade to the direct connection, ms. */
  ms: number
}

export interface DirectTcpEvents {
  'hole-punch:attempt': CustomEvent<HolePunchAttemptDetail>
  'hole-punch:failed': CustomEvent<HolePunchFailedDetail>
  'hole-punch:connected': CustomEvent<DirectConnectionDetail>
}

/** What `node.services.dcutr` is on a peer made with `directTcp`. */
export interface DirectTcpService extends TypedEventEmitter<DirectTcpEvents> {
  /** The local port of the node's outbound TCP connections. */
  readonly port: number
  /** This node's TCP addresses as the nodes it dialed saw them, most recent first. */
  observedAddresses(): Multiaddr[]
}

/**
 * Direct TCP through hole punching, speaking libp2p's DCUtR protocol
 * (`/libp2p/dcutr`, relay/DCUtR.md) over a relayed connection.
 *
 * Why not `@libp2p/dcutr` (3.0.28) with libp2p 3.3.11 in Node — measured in
 * the NAT lab and read in its source:
 * - it offers `addressManager.getAddresses()`, which holds only observed
 *   addresses AutoNAT confirmed and never private ones, and it drops private
 *   addresses it is offered: behind a NAT it had nothing to send but the
 *   relay circuit address ("had no dialable multiaddrs");
 * - it dials through the connection manager: a fresh socket from a random
 *   port, so the NAT maps it to a port the other side never learned and
 *   drops the other side's SYN; and the dial queue drops its
 *   `initiator: false`, so a simultaneous open would run two Noise initiators;
 * - go-libp2p dials from its listen port (SO_REUSEPORT); Node (20 and later)
 *   cannot bind a dialing socket to a port a listener holds (EADDRINUSE).
 *
 * What works instead: every outbound TCP connection of the node leaves from
 * one fixed local port (`port`, no listener on it; several connected sockets
 * may share a port when their remotes differ). An endpoint-independent NAT
 * then gives them all one mapping, so the address the relay observed for us
 * (identify's `observedAddr`) is the address our punch dial leaves from.
 * Both sides dial each other's observed address at the same moment (DCUtR's
 * CONNECT / SYNC timing); each router has then seen its own side's SYN and
 * lets the other side's SYN in as a reply: a TCP simultaneous open, with no
 * listener and no unsolicited packet. The inbound side of the relayed
 * connection starts (the spec's "B"), dials as the multistream / Noise
 * responder (`initiator: false`); the other side dials as the initiator.
 * NATs with endpoint-dependent mapping (symmetric) give the punch socket
 * another port than the one observed: those punches fail.
 *
 * Before punching, the starting side tries the other peer's own TCP listen
 * addresses (from identify), like libp2p's "unilateral upgrade".
 *
 * The relayed connection is left open (another path may be carrying a
 * transfer on it); libp2p prunes it like any other.
 *
 * ```
 *  B (inbound side)                       A (dialed through the relay)
 *   identify done ─ CONNECT(B's addrs) ──►
 *                 ◄── CONNECT(A's addrs) ─  (B measures the RTT)
 *                 ─ SYNC ───────────────►
 *   wait RTT/2                              dial B's addrs at once
 *   dial A's addrs (responder) ═══ TCP simultaneous open ═══ (initiator)
 * ```
 */
export class DirectTcp extends TypedEventEmitter<DirectTcpEvents> implements DirectTcpService {
  readonly port: number
  private readonly components: DirectTcpComponents
  private readonly allowPrivate: boolean
  private readonly timeout: number
  private readonly attempts: number
  private readonly log: Logger
  private readonly observed = new ObservedTcpAddresses()
  /** Peers an upgrade started by this node is running for. */
  private readonly running = new Set<string>()
  /** The exchange this node answers per peer: a new one from the same peer replaces it. */
  private readonly answering = new Map<string, AbortController>()
  private shutdown = new AbortController()
  private started = false

  constructor (components: DirectTcpComponents, init: DirectTcpInit) {
    super()
    this.components = components
    this.port = init.port
    this.allowPrivate = init.allowPrivateAddresses === true
    this.timeout = init.timeout ?? 3000
    this.attempts = Math.max(1, init.attempts ?? 3)
    this.log = components.logger.forComponent('chiral:core:direct-tcp')
  }

  readonly [Symbol.toStringTag] = '@chiral/direct-tcp'

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    this.shutdown = new AbortController()
    await this.components.registrar.handle(DCUTR_PROTOCOL, this.onStream, {
      runOnLimitedConnection: true,
      // A retry may arrive while this node still waits out the last attempt's dials: it replaces it.
      maxInboundStreams: 2,
      maxOutboundStreams: 1
    })
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.shutdown.abort()
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    await this.components.registrar.unhandle(DCUTR_PROTOCOL)
  }

  observedAddresses (): Multiaddr[] {
    return this.observed.list()
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { connection, observedAddr, protocols, listenAddrs } = evt.detail
    // Only our own dials leave from the punch port: what their remote saw is its mapping.
    if (observedAddr != null && connection.direction === 'outbound' && isDirectTcp(connection)) {
      this.observed.record(observedAddr)
    }
    if (isRelayed(connection) && connection.direction === 'inbound' && protocols.includes(DCUTR_PROTOCOL)) {
      this.upgrade(connection, listenAddrs).catch((err: Error) => {
        this.log('no direct connection to %p - %s', connection.remotePeer, err.message)
      })
    }
  }

  /** The starting side ("B"): the other peer's listen addresses, else hole punching. */
  private async upgrade (relayed: Connection, listenAddrs: Multiaddr[]): Promise<Connection> {
    const peer = relayed.remotePeer
    const id = peer.toString()
    const existing = this.directConnection(peer)
    if (existing != null) return existing
    if (this.running.has(id)) throw new HolePunchFailedError(`An upgrade to ${id} is already running`)
    this.running.add(id)
    const startedAt = Date.now()
    try {
      const listening = listenAddrs
        .filter((a) => isPlainTcp(withoutPeer(a)))
        .map((a) => withoutPeer(a).encapsulate(`/p2p/${id}`))
      const usable = punchableAddresses(listening.map((a) => a.bytes), id, this.allowPrivate)
      if (usable.length > 0) {
        try {
          const connection = await this.dialFirst(usable, true, this.signal())
          this.log('direct TCP to %p via its listen address %a', peer, connection.remoteAddr)
          this.connected(id, 'initiator', connection, startedAt)
          return connection
        } catch (err) {
          this.log('listen addresses of %p not reachable - %e', peer, err)
        }
      }
      for (let attempt = 1; ; attempt++) {
        this.safeDispatchEvent('hole-punch:attempt', { detail: { peerId: id, role: 'initiator' } })
        try {
          const connection = await this.punchAsInitiator(relayed)
          this.connected(id, 'initiator', connection, startedAt)
          return connection
        } catch (err) {
          const error = err as Error
          const final = attempt >= this.attempts || error instanceof NoAddressesError || relayed.status !== 'open' || !this.started
          this.log('hole punch %d/%d to %p failed%s - %s', attempt, this.attempts, peer, final ? ', giving up' : '', error.message)
          this.safeDispatchEvent('hole-punch:failed', { detail: { peerId: id, role: 'initiator', error, final } })
          if (final) throw new HolePunchFailedError(`No direct TCP connection to ${id}: ${error.message}`, { cause: error })
        }
      }
    } finally {
      this.running.delete(id)
    }
  }

  private async punchAsInitiator (relayed: Connection): Promise<Connection> {
    const id = relayed.remotePeer.toString()
    const ours = this.observed.list()
    if (ours.length === 0) throw new NoAddressesError('this node has no observed TCP address to offer yet')
    const signal = this.signal()
    const stream = await relayed.newStream(DCUTR_PROTOCOL, { signal, runOnLimitedConnection: true })
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_HOLE_PUNCH_MESSAGE })
      const sentAt = Date.now()
      await lp.write(encodeHolePunch({ type: HolePunchType.CONNECT, observedAddresses: ours.map((a) => a.bytes) }), { signal })
      const reply = decodeHolePunch((await lp.read({ signal })).subarray())
      const rtt = Date.now() - sentAt
      if (reply.type !== HolePunchType.CONNECT) throw new Error('expected CONNECT, got SYNC')
      const targets = punchableAddresses(reply.observedAddresses, id, this.allowPrivate)
      if (targets.length === 0) throw new NoAddressesError('the peer offered no TCP address this node can dial')
      await lp.write(encodeHolePunch({ type: HolePunchType.SYNC, observedAddresses: [] }), { signal })
      // The other side dials when SYNC arrives, half an RTT from now.
      await sleep(rtt / 2, signal)
      this.log('punching to %p (rtt %d ms) at %s', relayed.remotePeer, rtt, targets.map(String).join(', '))
      const connection = await this.dialFirst(targets, false, signal)
      await stream.close({ signal }).catch(() => {})
      return connection
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /** The other side ("A"): answers CONNECT with our addresses and dials at SYNC. */
  private readonly onStream = async (stream: Stream, relayed: Connection): Promise<void> => {
    const id = relayed.remotePeer.toString()
    const startedAt = Date.now()
    this.safeDispatchEvent('hole-punch:attempt', { detail: { peerId: id, role: 'responder' } })
    this.answering.get(id)?.abort(new Error('replaced by a newer attempt'))
    const replaced = new AbortController()
    this.answering.set(id, replaced)
    const signal = AbortSignal.any([this.signal(), replaced.signal])
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_HOLE_PUNCH_MESSAGE })
      const connect = decodeHolePunch((await lp.read({ signal })).subarray())
      if (connect.type !== HolePunchType.CONNECT) throw new Error('expected CONNECT, got SYNC')
      const ours = this.observed.list()
      const targets = punchableAddresses(connect.observedAddresses, id, this.allowPrivate)
      await lp.write(encodeHolePunch({ type: HolePunchType.CONNECT, observedAddresses: ours.map((a) => a.bytes) }), { signal })
      const sync = decodeHolePunch((await lp.read({ signal })).subarray())
      if (sync.type !== HolePunchType.SYNC) throw new Error('expected SYNC, got CONNECT')
      if (ours.length === 0) throw new NoAddressesError('this node had no observed TCP address to offer')
      if (targets.length === 0) throw new NoAddressesError('the peer offered no TCP address this node can dial')
      this.log('punching to %p at %s', relayed.remotePeer, targets.map(String).join(', '))
      const connection = await this.dialFirst(targets, true, signal)
      this.connected(id, 'responder', connection, startedAt)
      await stream.close({ signal }).catch(() => {})
    } catch (err) {
      const error = err as Error
      this.log('hole punch from %p failed - %s', relayed.remotePeer, error.message)
      if (!replaced.signal.aborted) {
        this.safeDispatchEvent('hole-punch:failed', { detail: { peerId: id, role: 'responder', error, final: error instanceof NoAddressesError } })
      }
      stream.abort(error)
    } finally {
      if (this.answering.get(id) === replaced) this.answering.delete(id)
    }
  }

  /**
   * Dials every target at once from the punch port; the first connection
   * wins, the other dials are cancelled and any other connection they made
   * is closed (they are this service's own).
   */
  private async dialFirst (targets: Multiaddr[], initiator: boolean, signal: AbortSignal): Promise<Connection> {
    const losers = new AbortController()
    const dials = targets.map(async (addr) => this.dialOne(addr, initiator, AbortSignal.any([signal, losers.signal])))
    try {
      const winner = await Promise.any(dials)
      for (const dial of dials) {
        dial.then(async (c) => { if (c !== winner) await c.close() }).catch(() => {})
      }
      return winner
    } catch (err) {
      const errors = err instanceof AggregateError ? err.errors as Error[] : [err as Error]
      throw new Error(`TCP dials failed: ${errors.map((e) => e.message).join('; ')}`, { cause: err })
    } finally {
      losers.abort()
    }
  }

  /**
   * One dial from the punch port, as the libp2p initiator or, for the
   * starting side of a simultaneous open, as the responder.
   *
   * Two things libp2p 3.3.11 gets wrong for a simultaneous open, fixed here:
   * - the upgrader's `initiator: false` makes Noise and multistream-select
   *   respond, but yamux picks client or server from the socket's
   *   `direction` ('outbound' for every dial): both ends were yamux clients
   *   ("Both endpoints are clients"). The socket is marked inbound first.
   * - @libp2p/tcp hands the dial's signal to `net.connect`, and a Node
   *   socket is destroyed whenever its signal aborts, even long after it
   *   connected: the socket gets a signal of its own that follows `signal`
   *   only until the dial is over.
   */
  private async dialOne (addr: Multiaddr, initiator: boolean, signal: AbortSignal): Promise<Connection> {
    signal.throwIfAborted()
    const transport = this.components.transportManager.dialTransportForMultiaddr(addr)
    if (transport == null) throw new Error(`No transport dials ${addr.toString()}`)
    const upgrader = this.components.upgrader
    const own = new AbortController()
    const follow = (): void => { own.abort(signal.reason) }
    signal.addEventListener('abort', follow, { once: true })
    try {
      return await transport.dial(addr, {
        signal: own.signal,
        upgrader: initiator ? upgrader : asResponder(upgrader)
      })
    } finally {
      signal.removeEventListener('abort', follow)
    }
  }

  private connected (peerId: string, role: HolePunchRole, connection: Connection, startedAt: number): void {
    this.log('direct TCP connection to %p via %a (%s) in %d ms', connection.remotePeer, connection.remoteAddr, role, Date.now() - startedAt)
    this.safeDispatchEvent('hole-punch:connected', { detail: { peerId, role, connection, ms: Date.now() - startedAt } })
  }

  private directConnection (peer: PeerId): Connection | undefined {
    return this.components.connectionManager.getConnections(peer).find((c) => c.status === 'open' && isDirectTcp(c))
  }

  private signal (): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(this.timeout), this.shutdown.signal])
  }
}

/** The node's upgrader, upgrading an outbound socket as the responder (see `dialOne`). */
function asResponder (upgrader: Upgrader): Upgrader {
  const responder: Upgrader = Object.create(upgrader)
  responder.upgradeOutbound = async (maConn: MultiaddrConnection, opts: UpgraderOptions) => {
    maConn.direction = 'inbound'
    return upgrader.upgradeOutbound(maConn, { ...opts, initiator: false } as UpgraderOptions)
  }
  return responder
}

/** No address to offer or to dial: no retry can help. */
class NoAddressesError extends Error {}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The service factory for libp2p's `services` (core's `createNode({ directTcp })` adds it). */
export function directTcp (init: DirectTcpInit): (components: DirectTcpComponents) => DirectTcpService {
  return (components) => new DirectTcp(components, init)
}
