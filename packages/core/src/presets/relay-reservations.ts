/**
 * Relay reservations on the server: what the circuit-relay-v2 server does
 * not do on its own (release on disconnect, a cap per source address). The
 * client side of a refusal is in relay-refusals.ts.
 *
 * What the library does (circuit-relay-v2 4.2): the server keeps one
 * reservation per peer id in a map, each with a timer of the reservation
 * lifetime (2 h here), and removes it only when that timer fires. A peer
 * that reserves and disconnects keeps its slot until then, so throwaway keys
 * that each reserve and leave fill every slot within a minute. The only cap
 * is the total (`maxReservations`); libp2p's inbound throttle (5 connections
 * per second per host) lets one address take all of them.
 */
import { InvalidArgumentError } from '../errors.js'
import { override } from './relay-rate-limit.js'
import type { CircuitRelayServerComponents, CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { ComponentLogger, Connection, Libp2pEvents, PeerId, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TypedEventTarget } from 'main-event'

/** How often reservations of peers with no connection are looked for, ms (covers a disconnect racing a RESERVE). */
const SWEEP_INTERVAL = 10_000

export interface ReservationGuardInit {
  /** Reservations held at once by peers connecting from one IP address (`Infinity`: no cap). */
  maxReservationsPerIp: number
}

type GuardedComponents = CircuitRelayServerComponents & { events: TypedEventTarget<Libp2pEvents> }

/**
 * Wraps a circuit-relay-v2 server factory:
 *
 * - a reservation is released as soon as the reserving peer has no
 *   connection to the relay left (and, as a backstop, by a sweep every 10 s),
 *   instead of lasting its full lifetime;
 * - a RESERVE from a peer whose address already has `maxReservationsPerIp`
 *   reservations is denied (through the connection gater's
 *   `denyInboundRelayReservation`, so the peer gets PERMISSION_DENIED). A
 *   peer renewing the reservation it holds is never denied.
 *
 * A peer holds at most one reservation however often it asks: the library
 * keys them by peer id.
 */
export function guardedRelay<Service extends CircuitRelayService> (relay: (components: CircuitRelayServerComponents) => Service, init: ReservationGuardInit): (components: CircuitRelayServerComponents) => Service {
  const cap = init.maxReservationsPerIp
  if (!(cap >= 1)) throw new InvalidArgumentError(`maxReservationsPerIp must be at least 1, got ${String(cap)}`)
  return (components) => {
    const c = components as GuardedComponents
    let service: Service | undefined
    const gater = c.connectionGater
    const guarded = Number.isFinite(cap)
      ? override(c, {
        connectionGater: override(gater, {
          denyInboundRelayReservation: async (peer: PeerId) => {
            if ((await gater.denyInboundRelayReservation?.(peer)) === true) return true
            const held = service?.reservations
            if (held === undefined || held.has(peer)) return false
            const ips = new Set(c.connectionManager.getConnections(peer).map((conn) => ipOf(conn.remoteAddr)))
            const perIp = new Map<string, number>()
            for (const r of held.values()) {
              const ip = ipOf(r.addr)
              if (ip !== undefined) perIp.set(ip, (perIp.get(ip) ?? 0) + 1)
            }
            for (const ip of ips) {
              if (ip !== undefined && (perIp.get(ip) ?? 0) >= cap) {
                log(c.logger).error('reservation for %p denied: %d reservations from %s already', peer, cap, ip)
                return true
              }
            }
            return false
          }
        })
      })
      : c
    service = relay(guarded)
    return withRelease(service, c)
  }
}

function log (logger: ComponentLogger): ReturnType<ComponentLogger['forComponent']> {
  return logger.forComponent('chiral:core:relay-reservations')
}

/** The service with its `start`/`stop` also releasing reservations of peers that have gone. */
function withRelease<Service extends CircuitRelayService> (service: Service, c: GuardedComponents): Service {
  const l = log(c.logger)
  const release = (peer: PeerId): void => {
    const r = service.reservations.get(peer)
    if (r === undefined) return
    // The library's timer would otherwise delete a later reservation of the same peer.
    r.signal.clear()
    service.reservations.delete(peer)
    l('released the reservation of %p: no connection left', peer)
  }
  const onDisconnect = (evt: CustomEvent<PeerId>): void => {
    if (!connected(c, evt.detail)) release(evt.detail)
  }
  const sweep = (): void => {
    for (const peer of [...service.reservations.keys()]) {
      if (!connected(c, peer)) release(peer)
    }
  }
  let timer: ReturnType<typeof setInterval> | undefined
  const startable = service as Service & Partial<Startable>
  const start = startable.start?.bind(service)
  const stop = startable.stop?.bind(service)
  return override(service, {
    start: async () => {
      await start?.()
      c.events.addEventListener('peer:disconnect', onDisconnect)
      timer = setInterval(sweep, SWEEP_INTERVAL)
      timer.unref?.()
    },
    stop: async () => {
      c.events.removeEventListener('peer:disconnect', onDisconnect)
      clearInterval(timer)
      timer = undefined
      await stop?.()
    }
  } as unknown as Partial<Service>)
}

function connected (c: GuardedComponents, peer: PeerId): boolean {
  return c.connectionManager.getConnections(peer).some((conn: Connection) => conn.status === 'open')
}

/** The IP address of a multiaddr (its first ip4/ip6 part), if it has one. */
export function ipOf (addr: Multiaddr): string | undefined {
  return addr.getComponents().find((p) => p.name === 'ip4' || p.name === 'ip6')?.value
}
