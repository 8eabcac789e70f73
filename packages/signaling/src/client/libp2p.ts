import { InvalidArgumentError, NotStartedError, throwIfAborted } from '@chiral/core'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { fromString as bytesFromString, toString as bytesToString } from 'uint8arrays'
import { SignalingRejectedError, SignalingUnavailableError } from '../errors.js'
import { parsePeerId } from '../protocol/auth.js'
import { parseLibp2pReply, parseSignal } from '../protocol/messages.js'
import type { Libp2pReply } from '../protocol/messages.js'
import type { AbortOptions, Signaling, SignalingEvents, SignalingRoute, SignalMessage } from '@chiral/core'
import type { Connection, Libp2p, Logger, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The libp2p protocol that carries signals between peers. */
export const SIGNALING_PROTOCOL = '/chiral/signaling/1.0.0'

/** What the libp2p backend needs from a node. */
export interface Libp2pSignalingComponents {
  node: Pick<Libp2p, 'peerId' | 'handle' | 'unhandle' | 'dialProtocol' | 'logger' | 'peerStore' | 'getMultiaddrs' | 'getConnections'>
}

export interface Libp2pSignalingInit {
  /** Protocol id (default `/chiral/signaling/1.0.0`). */
  protocol?: string
  /** Largest signal accepted, bytes (default 64 KiB). */
  maxMessageBytes?: number
  /** Limit for one send (dial, write, ack) when the caller gives no signal, ms (default 10 s). */
  sendTimeout?: number
  /** Concurrent inbound signaling streams per connection (default 32). */
  maxInboundStreams?: number
}

export type Libp2pSignalingEvents = SignalingEvents

/**
 * `Signaling` over libp2p: each signal is one length-prefixed JSON message on
 * a new `/chiral/signaling/1.0.0` stream to the target peer, answered by an
 * `ack` (or an error) from the receiver. An open connection to the target is
 * reused (relayed ones too); otherwise the target is dialed by its PeerId
 * when its addresses are known (peer store); otherwise through each relay
 * this node holds a reservation on (`<relay>/p2p-circuit/p2p/<target>`, which
 * reaches every peer reserved on the same relay), then by peer routing (the
 * DHT). Streams run on limited (relayed) connections. The sender is the
 * connection's authenticated remote peer; nothing in the message says who
 * sent it. Signals to one peer are sent one at a time, in order.
 */
export class Libp2pSignaling extends TypedEventEmitter<Libp2pSignalingEvents> implements Signaling {
  readonly id: string
  private readonly node: Libp2pSignalingComponents['node']
  private readonly protocol: string
  private readonly maxMessageBytes: number
  private readonly sendTimeout: number
  private readonly maxInboundStreams: number
  private readonly log: Logger
  private readonly chains = new Map<string, Promise<unknown>>()
  private started = false

  constructor (components: Libp2pSignalingComponents, init: Libp2pSignalingInit = {}) {
    super()
    this.node = components.node
    this.id = components.node.peerId.toString()
    this.protocol = init.protocol ?? SIGNALING_PROTOCOL
    this.maxMessageBytes = init.maxMessageBytes ?? 64 * 1024
    this.sendTimeout = init.sendTimeout ?? 10_000
    this.maxInboundStreams = init.maxInboundStreams ?? 32
    this.log = components.node.logger.forComponent('chiral:signaling:libp2p')
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.node.handle(this.protocol, this.onStream, {
      runOnLimitedConnection: true,
      maxInboundStreams: this.maxInboundStreams
    })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.node.unhandle(this.protocol)
  }

  async send (to: string, message: SignalMessage, options: AbortOptions = {}): Promise<SignalingRoute> {
    throwIfAborted(options.signal)
    if (!this.started) throw new NotStartedError('libp2p signaling is not started')
    const peerId = parsePeerId(to)
    if (peerId === undefined) throw new InvalidArgumentError(`"${to}" is not a PeerId: the libp2p route needs one`)
    const bytes = bytesFromString(JSON.stringify(message), 'utf8')
    if (bytes.byteLength > this.maxMessageBytes) throw new InvalidArgumentError(`signal of ${bytes.byteLength} bytes exceeds ${this.maxMessageBytes}`)
    const signal = options.signal ?? AbortSignal.timeout(this.sendTimeout)
    // One at a time per peer, so candidates never overtake their offer.
    const previous = this.chains.get(to) ?? Promise.resolve()
    const mine = previous.catch(() => {}).then(async () => this.deliver(peerId, bytes, signal))
    this.chains.set(to, mine)
    try {
      await mine
    } finally {
      if (this.chains.get(to) === mine) this.chains.delete(to)
    }
    return 'libp2p'
  }

  private async deliver (peerId: NonNullable<ReturnType<typeof parsePeerId>>, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal)
    const stream = await this.open(peerId, signal)
    try {
      const lp = lpStream(stream, { maxDataLength: 4096 })
      await lp.write(bytes, { signal })
      const reply = parseLibp2pReply(bytesToString((await lp.read({ signal })).subarray(), 'utf8'))
      if (!reply.ok) throw new SignalingRejectedError(`unreadable reply from ${peerId.toString()}: ${reply.reason}`)
      if (reply.message.type === 'error') throw new SignalingRejectedError(`${peerId.toString()} refused the signal: ${reply.message.code} ${reply.message.message}`)
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  private async open (peerId: PeerId, signal: AbortSignal): Promise<Stream> {
    const options = { signal, runOnLimitedConnection: true }
    // Reuse a live connection (a relayed one included): dialing again would
    // open a second relayed connection between the same two peers.
    const open = this.node.getConnections(peerId).filter((c) => c.status === 'open')
    const conn = open.find((c) => c.limits == null) ?? open[0]
    if (conn !== undefined) {
      try {
        return await conn.newStream(this.protocol, options)
      } catch (err) {
        throwIfAborted(signal)
        this.log('existing connection to %p refused a stream (%e), dialing', peerId, err)
      }
    }
    const known = await this.node.peerStore.get(peerId).then((p) => p.addresses.length > 0, () => false)
    const viaRelays = known ? [] : this.circuitAddresses(peerId)
    if (viaRelays.length > 0) {
      try {
        return await this.node.dialProtocol(viaRelays, this.protocol, options)
      } catch (err) {
        throwIfAborted(signal)
        this.log('no route to %p through our relays (%e), trying peer routing', peerId, err)
      }
    }
    if (!known && viaRelays.length === 0 && this.node.getConnections().length === 0) {
      // No address, no relay, and no peer to ask: peer routing would only wait for the signal.
      throw new SignalingUnavailableError(`No libp2p route to ${peerId.toString()}: this node has no connections`)
    }
    return this.node.dialProtocol(peerId, this.protocol, options)
  }

  /** `<relay>/p2p-circuit/p2p/<target>` for each relay this node is reserved on. */
  private circuitAddresses (target: PeerId): Multiaddr[] {
    const out = new Map<string, Multiaddr>()
    for (const ma of this.node.getMultiaddrs()) {
      const s = ma.toString()
      const i = s.lastIndexOf('/p2p-circuit')
      if (i < 0) continue
      const addr = `${s.slice(0, i)}/p2p-circuit/p2p/${target.toString()}`
      out.set(addr, multiaddr(addr))
    }
    return [...out.values()]
  }

  private readonly onStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(this.sendTimeout)
    const lp = lpStream(stream, { maxDataLength: this.maxMessageBytes })
    const reply = async (r: Libp2pReply): Promise<void> => {
      await lp.write(bytesFromString(JSON.stringify(r), 'utf8'), { signal })
      await stream.close({ signal })
    }
    try {
      let data
      try {
        data = await lp.read({ signal })
      } catch (err) {
        if ((err as Error).name === 'InvalidDataLengthError') {
          await reply({ type: 'error', code: 'too-large', message: `limit is ${this.maxMessageBytes} bytes` })
          return
        }
        throw err
      }
      const parsed = parseSignal(bytesToString(data.subarray(), 'utf8'))
      if (!parsed.ok) {
        await reply({ type: 'error', code: 'bad-message', message: parsed.reason })
        return
      }
      const from = connection.remotePeer.toString()
      this.safeDispatchEvent('signal', { detail: { from, message: parsed.message, route: 'libp2p' } })
      await reply({ type: 'ack' })
    } catch (err) {
      this.log.error('signaling stream from %p failed: %e', connection.remotePeer, err)
      stream.abort(err as Error)
    }
  }
}

/** Creates the libp2p signaling backend for a node (call `start()` to handle the protocol). */
export function createLibp2pSignaling (components: Libp2pSignalingComponents, init: Libp2pSignalingInit = {}): Libp2pSignaling {
  return new Libp2pSignaling(components, init)
}
