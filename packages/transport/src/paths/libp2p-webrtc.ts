import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { libp2pStreamChannel } from '../channels/libp2p-stream.js'
import { PathDialError } from '../errors.js'
import { methodOfConnection } from './connection-method.js'
import type { AbortOptions, MessageChannel, PathDialer, PeerTarget } from '@chiral/core'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface Libp2pWebRTCDialerInit {
  /** Largest message on the stream channel (default 4 MiB; both ends must agree). */
  maxMessageSize?: number
  /**
   * Time limit for one dial, ms (default 10 s). libp2p's WebRTC dial does not
   * fail by itself when ICE fails: it waits for its signal.
   */
  dialTimeout?: number
  /** Open the stream on an open WebRTC connection to the peer when there is one (default true). */
  reuseConnections?: boolean
}

const log = logger('chiral:transport:libp2p-webrtc')

/** The libp2p multiplexer name of a WebRTC connection (its DataChannels are its streams). */
const WEBRTC_MULTIPLEXER = '/webrtc'

/** How many times one address is dialed when libp2p hands back another dial's non-WebRTC connection. */
const JOINED_DIAL_RETRIES = 2

/**
 * The libp2p-webrtc path: libp2p's own WebRTC transport (private-to-private,
 * the SDP exchanged over a relayed connection per the libp2p spec), so
 * standard libp2p peers reach ours directly. Dials the peer's
 * `<relay>/p2p-circuit/webrtc/p2p/<peer>` addresses (taken from its WebRTC
 * addresses, else derived from its relay circuit addresses) with
 * `force: true`, checks that the connection really is WebRTC (its
 * multiplexer is `/webrtc`; the remote address proves nothing), and opens
 * the protocol stream on it as a message channel with method `webrtc-direct`.
 *
 * Racing the relay path: libp2p's dial queue joins a dial to any dial
 * already in progress to the same peer, `force` or not, and hands both the
 * same connection. So before its WebRTC dial this dialer takes part in (or
 * makes) the relayed connection the WebRTC signaling needs anyway
 * (`<relay>/p2p-circuit/p2p/<peer>`, not forced, so a dial in progress is
 * joined; skipped when a connection to the peer is open); its WebRTC dial
 * then runs alone. Should it
 * still be handed another dial's connection that is not WebRTC, it dials
 * again once that dial is over. It never closes a connection it did not
 * create: a relayed connection handed to it belongs to the relay path.
 *
 * Both nodes need libp2p's WebRTC transport (core's `createNode({ webrtc })`),
 * the remote listening on `/webrtc`.
 */
export function libp2pWebRTCDialer (node: Pick<Libp2p, 'dial' | 'getConnections'>, init: Libp2pWebRTCDialerInit = {}): PathDialer {
  const channelOf = (stream: Stream): MessageChannel => libp2pStreamChannel(stream, {
    method: 'webrtc-direct',
    ...(init.maxMessageSize === undefined ? {} : { maxMessageSize: init.maxMessageSize })
  })
  return {
    name: 'libp2p-webrtc',
    method: 'webrtc-direct',
    async dial (target: PeerTarget, protocol: string, options: AbortOptions = {}): Promise<MessageChannel> {
      options.signal?.throwIfAborted()
      if (init.reuseConnections !== false) {
        const open = node.getConnections()
          .filter((c) => c.remotePeer.toString() === target.peerId && c.status === 'open' && c.multiplexer === WEBRTC_MULTIPLEXER)
        for (const connection of open) {
          try {
            const stream = await connection.newStream(protocol, { signal: options.signal })
            log('stream to %s on an open WebRTC connection', target.peerId)
            return channelOf(stream)
          } catch (err) {
            if (options.signal?.aborted === true) throw err
            log('open WebRTC connection to %s refused a stream - %e', target.peerId, err)
          }
        }
      }
      const addrs = webRTCCircuitAddresses(target)
      if (addrs.length === 0) {
        throw new PathDialError(`Peer ${target.peerId} has no relay circuit address to reach it over WebRTC`)
      }
      const timeout = AbortSignal.timeout(init.dialTimeout ?? 10_000)
      const signal = options.signal == null ? timeout : AbortSignal.any([options.signal, timeout])
      const errors: Error[] = []
      for (const addr of addrs) {
        options.signal?.throwIfAborted()
        try {
          return channelOf(await dialWebRTC(node, addr, protocol, signal))
        } catch (err) {
          if (options.signal?.aborted === true) throw err
          log('WebRTC dial via %a failed - %e', addr, err)
          errors.push(err as Error)
          if (timeout.aborted) break
        }
      }
      throw new PathDialError(`Could not reach ${target.peerId} over libp2p WebRTC: ${errors.map((e) => e.message).join('; ')}`, {
        cause: new AggregateError(errors)
      })
    }
  }
}

/**
 * One `/webrtc` address: joins or makes the relayed connection first, then
 * dials WebRTC (again when handed another dial's non-WebRTC connection) and
 * opens the protocol stream.
 */
async function dialWebRTC (node: Pick<Libp2p, 'dial' | 'getConnections'>, addr: Multiaddr, protocol: string, signal: AbortSignal): Promise<Stream> {
  const circuit = relayedAddressOf(addr)
  const peer = addr.getComponents().findLast((c) => c.name === 'p2p')?.value
  const connected = node.getConnections().some((c) => c.remotePeer.toString() === peer && c.status === 'open')
  if (circuit != null && !connected) {
    try {
      await node.dial(circuit, { signal })
    } catch (err) {
      if (signal.aborted) throw err
      log('no relayed connection via %a before the WebRTC dial - %e', circuit, err)
    }
  }
  for (let attempt = 0; ; attempt++) {
    let joined = false
    const connection = await node.dial(addr, {
      signal,
      force: true,
      onProgress: (event) => { if (event.type === 'dial-queue:already-in-dial-queue') joined = true }
    })
    if (connection.multiplexer === WEBRTC_MULTIPLEXER) return webRTCStream(connection, addr, protocol, signal, !joined)
    // Not ours (another dial's, or what the dial queue chose): never closed here.
    const message = `Dialing ${addr.toString()} gave a ${methodOfConnection(connection)} connection (${connection.multiplexer ?? 'no multiplexer'}), not WebRTC`
    if (!joined || attempt >= JOINED_DIAL_RETRIES) throw new PathDialError(message)
    log('%s (joined another dial); dialing again', message)
  }
}

/**
 * Opens the protocol stream on a WebRTC connection. `own`: this dial made
 * the connection, so it is closed if it refuses the stream.
 */
async function webRTCStream (connection: Connection, addr: Multiaddr, protocol: string, signal: AbortSignal, own: boolean): Promise<Stream> {
  try {
    const stream = await connection.newStream(protocol, { signal })
    log('WebRTC stream to %p via %a', connection.remotePeer, addr)
    return stream
  } catch (err) {
    if (own) await connection.close().catch(() => {})
    throw err
  }
}

/** `<relay>/p2p-circuit/webrtc/p2p/<peer>` → `<relay>/p2p-circuit/p2p/<peer>` (undefined if not that shape). */
function relayedAddressOf (addr: Multiaddr): Multiaddr | undefined {
  const parts = addr.getComponents()
  const webrtc = parts.findIndex((c) => c.name === 'webrtc')
  if (webrtc < 1 || parts[webrtc - 1]?.name !== 'p2p-circuit') return undefined
  return multiaddr([...parts.slice(0, webrtc), ...parts.slice(webrtc + 1)])
}

/**
 * A peer's libp2p WebRTC addresses, `<relay>/p2p-circuit/webrtc/p2p/<peer>`:
 * the ones it lists, then one for each plain relay circuit address it lists
 * (every relay reservation of a peer listening on `/webrtc` works both ways).
 */
export function webRTCCircuitAddresses (target: PeerTarget): Multiaddr[] {
  const out = new Map<string, Multiaddr>()
  const derived: Multiaddr[] = []
  for (const raw of target.multiaddrs) {
    const addr = typeof raw === 'string' ? multiaddr(raw) : raw
    const parts = addr.getComponents()
    const circuit = parts.findIndex((c) => c.name === 'p2p-circuit')
    if (circuit < 0) continue
    const after = parts.slice(circuit + 1)
    const relay = multiaddr(parts.slice(0, circuit + 1))
    if (after.some((c) => c.name !== 'p2p' && c.name !== 'webrtc')) continue
    const webrtc = relay.encapsulate(`/webrtc/p2p/${target.peerId}`)
    if (after.some((c) => c.name === 'webrtc')) out.set(webrtc.toString(), webrtc)
    else derived.push(webrtc)
  }
  for (const addr of derived) if (!out.has(addr.toString())) out.set(addr.toString(), addr)
  return [...out.values()]
}
