/**
 * Relay reservations: what the circuit-relay-v2 server does not do on its
 * own (release on disconnect, a cap per source address), and the client side
 * of a refusal (so that a peer turned away learns it at once).
 *
 * What the library does (circuit-relay-v2 4.2): the server keeps one
 * reservation per peer id in a map, each with a timer of the reservation
 * lifetime (2 h here), and removes it only when that timer fires. A peer
 * that reserves and disconnects keeps its slot until then, so throwaway keys
 * that each reserve and leave fill every slot within a minute. The only cap
 * is the total (`maxReservations`); libp2p's inbound throttle (5 connections
 * per second per host) lets one address take all of them.
 *
 * On the client, a refused RESERVE makes the transport's reservation store
 * throw `reservation failed with status RESERVATION_REFUSED` from `addRelay`,
 * which the transport only logs; no event says so.
 */
import { InvalidArgumentError } from '../errors.js'
import { override } from './relay-rate-limit.js'
import type { CircuitRelayServerComponents, CircuitRelayService, RelayReservation } from '@libp2p/circuit-relay-v2'
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
    ;(r.signal as RelayReservation['signal'] & { clear?: () => void }).clear?.()
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
  } as Partial<Service>)
}

function connected (c: GuardedComponents, peer: PeerId): boolean {
  return c.connectionManager.getConnections(peer).some((conn: Connection) => conn.status === 'open')
}

/** The IP address of a multiaddr (its first ip4/ip6 part), if it has one. */
export function ipOf (addr: Multiaddr): string | undefined {
  return addr.getComponents().find((p) => p.name === 'ip4' || p.name === 'ip6')?.value
}

/** A relay's answer to a RESERVE that was not OK, as the client saw it. */
export interface RelayRefusal {
  /** The relay's peer id. */
  relay: string
  /** The status the relay answered (`RESERVATION_REFUSED`, `PERMISSION_DENIED`, …). */
  status: string
  /** When, ms since epoch. */
  at: number
}

/** Event the client transport dispatches on the node when a relay turns down a reservation. */
export const RELAY_REFUSED_EVENT = 'chiral:relay-reservation-refused'
/** Event the client transport dispatches on the node when a relay grants a reservation. */
export const RELAY_RESERVED_EVENT = 'chiral:relay-reservation-made'

const STATUS = /reservation failed with status (\w+)/

interface ClientReservationStore {
  addRelay: (peerId: PeerId, type: string) => Promise<unknown>
}

/**
 * Wraps a circuit-relay-v2 transport factory so that the node hears of every
 * reservation answer: `RELAY_REFUSED_EVENT` (detail: a `RelayRefusal`) when a
 * relay answers a RESERVE with anything but OK, `RELAY_RESERVED_EVENT`
 * (detail: the relay's peer id, a string) when it grants one. The transport
 * exposes its reservation store (`reservationStore`, public); its `addRelay`
 * is where every reservation attempt, first or renewal, runs and fails.
 */
export function reportingRelayTransport<T> (transport: (components: any) => T): (components: any) => T {
  return (components: { events: TypedEventTarget<Record<string, CustomEvent>> }) => {
    const t = transport(components)
    const store = (t as { reservationStore?: ClientReservationStore }).reservationStore
    if (store === undefined || typeof store.addRelay !== 'function') return t
    const addRelay = store.addRelay.bind(store)
    store.addRelay = async (peerId, type) => {
      try {
        const result = await addRelay(peerId, type)
        components.events.safeDispatchEvent(RELAY_RESERVED_EVENT, { detail: peerId.toString() })
        return result
      } catch (err) {
        const status = STATUS.exec(String((err as Error)?.message))?.[1]
        if (status !== undefined) {
          const detail: RelayRefusal = { relay: peerId.toString(), status, at: Date.now() }
          components.events.safeDispatchEvent(RELAY_REFUSED_EVENT, { detail })
        }
        throw err
      }
    }
    return t
  }
}

/**
 * Remembers, per relay, the last refusal not followed by a granted
 * reservation. A service of peers and browsers (`services.relayRefusals`),
 * read by `waitForRelayReservation`.
 */
export class RelayRefusals implements Startable {
  private readonly events: TypedEventTarget<Record<string, CustomEvent>>
  private readonly refused = new Map<string, RelayRefusal>()

  constructor (components: { events: TypedEventTarget<Record<string, CustomEvent>> }) {
    this.events = components.events
    this.onRefused = this.onRefused.bind(this)
    this.onReserved = this.onReserved.bind(this)
  }

  readonly [Symbol.toStringTag] = 'chiral:relay-refusals'

  start (): void {
    this.events.addEventListener(RELAY_REFUSED_EVENT, this.onRefused)
    this.events.addEventListener(RELAY_RESERVED_EVENT, this.onReserved)
  }

  stop (): void {
    this.events.removeEventListener(RELAY_REFUSED_EVENT, this.onRefused)
    this.events.removeEventListener(RELAY_RESERVED_EVENT, this.onReserved)
    this.refused.clear()
  }

  /** Relays whose last answer was a refusal. */
  current (): RelayRefusal[] {
    return [...this.refused.values()]
  }

  private onRefused (evt: CustomEvent): void {
    const r = evt.detail as RelayRefusal
    this.refused.set(r.relay, r)
  }

  private onReserved (evt: CustomEvent): void {
    this.refused.delete(String(evt.detail))
  }
}

export function relayRefusals (): (components: { events: TypedEventTarget<Record<string, CustomEvent>> }) => RelayRefusals {
  return (components) => new RelayRefusals(components)
}
