/**
 * A per-circuit bandwidth cap for the circuit-relay-v2 server, enforced at
 * the relay: each relayed connection may carry `bytesPerSecond` in each
 * direction.
 *
 * What the relay library does (circuit-relay-v2 4.2): a source peer opens a
 * HOP stream to the relay; the relay reads its CONNECT request, opens a STOP
 * stream to the destination, exchanges the STOP handshake on it, answers OK
 * on the HOP stream and then pipes the two (`createLimitedRelay` →
 * `pipe(hop, stop, hop)` of @libp2p/utils). That pipe reads each stream
 * through its 'message' events into an unbounded queue and writes the other
 * one, waiting for 'drain'. Throttling the writes would only grow that queue,
 * so the cap throttles the reads instead: what the relay reads from the HOP
 * stream is the source → destination direction, from the STOP stream the
 * way back. `throttleReads` (stream-throttle.ts) pauses a stream that has had
 * its share, which stops its yamux window updates, so the sender is held
 * back by its own flow control. The handshakes pass through unchanged.
 * Measured on loopback (relay-rate.spec.ts): 2.07 MiB/s each way with a cap
 * of 2 MiB/s, against 15–40 MiB/s without.
 *
 * How the streams are reached: by decorating the relay service's components,
 * not through libp2p's stream middleware (`node.use`). In libp2p 3.3.11 the
 * registrar hands out the registered middleware array itself and every
 * inbound stream appends the protocol handler to it (connection.js
 * `onIncomingStream`, libp2p/js-libp2p#3534 open), so from the second HOP
 * stream on the relay's handler would run several times per stream (seen:
 * a one-element chain had three entries after two reservations). The
 * decoration touches only what this service sees:
 *
 * - `registrar.handle(HOP, handler)`: the handler gets the HOP stream throttled;
 * - `connectionManager.getConnections(peer)`: connections whose `newStream`
 *   throttles the STOP stream it returns.
 *
 * While a stream is paused the sender may still send what it was granted,
 * up to one yamux receive window, into the stream's read buffer. Yamux grows
 * windows up to 16 MiB and a stream aborts when its read buffer passes 4 MiB,
 * so a rate-limited relay caps its receive windows at half a second of the
 * rate (`relayStreamOptions`): a paused stream then holds at most that,
 * bursts stay short, and the relay still fills the rate over paths of up to
 * about 500 ms round trip (a window per round trip; less above 8 MiB/s,
 * where windows stop at 4 MiB). The window cap applies to every stream of
 * the relay node, which carries little else.
 */
import { throttleReads } from './stream-throttle.js'
import type { CircuitRelayServerComponents } from '@libp2p/circuit-relay-v2'
import type { Connection } from '@libp2p/interface'

export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
export const STOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/stop'

/** Yamux's smallest (and initial) stream window: its spec fixes it. */
const MIN_WINDOW = 256 * 1024
/** Seconds of the rate a receive window holds: the largest burst, and the longest a paused stream delays what follows. */
const WINDOW_SECONDS = 0.5
/** The read buffer a stream may hold before it aborts, by default. */
const DEFAULT_READ_BUFFER = 4 * 1024 * 1024

/** Wraps a circuit-relay-v2 server factory so that every circuit through it is capped at `bytesPerSecond` each way. */
export function rateLimitedRelay<Service> (relay: (components: CircuitRelayServerComponents) => Service, bytesPerSecond: number): (components: CircuitRelayServerComponents) => Service {
  if (!(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be positive, got ${String(bytesPerSecond)}`)
  return (components) => relay(throttledCircuits(components, bytesPerSecond))
}

/**
 * Yamux stream settings of a rate-limited relay: receive windows of half a
 * second of the rate (between 256 KiB and 4 MiB), and room in the read buffer
 * for a full window plus what a handshake reader may hand back.
 */
export function relayStreamOptions (bytesPerSecond: number): { maxStreamWindowSize: number, maxReadBufferLength: number } {
  const window = Math.round(Math.min(DEFAULT_READ_BUFFER, Math.max(MIN_WINDOW, bytesPerSecond * WINDOW_SECONDS)))
  return { maxStreamWindowSize: window, maxReadBufferLength: window + DEFAULT_READ_BUFFER }
}

function throttledCircuits (components: CircuitRelayServerComponents, bytesPerSecond: number): CircuitRelayServerComponents {
  const throttle = { bytesPerSecond }
  const { registrar, connectionManager } = components
  const withStop = (connection: Connection): Connection => override(connection, {
    newStream: async (protocols, options) => {
      const stream = await connection.newStream(protocols, options)
      if (stream.protocol === STOP_PROTOCOL) throttleReads(stream, throttle)
      return stream
    }
  })
  return override(components, {
    registrar: override(registrar, {
      handle: async (protocol, handler, options) => {
        const isHop = protocol === HOP_PROTOCOL || (Array.isArray(protocol) && protocol.includes(HOP_PROTOCOL))
        return registrar.handle(protocol, isHop
          ? async (stream, connection) => {
            if (stream.protocol === HOP_PROTOCOL) throttleReads(stream, throttle)
            return handler(stream, connection)
          }
          : handler, options)
      }
    }),
    connectionManager: override(connectionManager, {
      getConnections: (peerId) => connectionManager.getConnections(peerId).map(withStop)
    })
  })
}

/**
 * `target` with some members replaced; everything else is read from the
 * target itself (methods bound to it, so private state keeps working).
 */
export function override<T extends object> (target: T, members: Partial<T>): T {
  return new Proxy(target, {
    get (t, prop) {
      if (Object.hasOwn(members, prop)) return members[prop as keyof T]
      const value: unknown = Reflect.get(t, prop, t)
      return typeof value === 'function' ? value.bind(t) : value
    }
  })
}
