/**
 * Relay refusals on the client: so that a peer a relay turns away learns it
 * at once (`waitForRelayReservation` fails with `reservation-refused`).
 *
 * What the library does (circuit-relay-v2 4.2): a refused RESERVE makes the
 * transport's reservation store throw `reservation failed with status
 * RESERVATION_REFUSED` from `addRelay`, which the transport only logs; no
 * event says so.
 */
import type { PeerId, Startable } from '@libp2p/interface'
import type { TypedEventTarget } from 'main-event'

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
  private readonly events: EventTarget
  private readonly refused = new Map<string, RelayRefusal>()

  constructor (components: { events: EventTarget }) {
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

  private onRefused (evt: Event): void {
    const r = (evt as CustomEvent<RelayRefusal>).detail
    this.refused.set(r.relay, r)
  }

  private onReserved (evt: Event): void {
    this.refused.delete(String((evt as CustomEvent<string>).detail))
  }
}

export function relayRefusals (): (components: { events: EventTarget }) => RelayRefusals {
  return (components) => new RelayRefusals(components)
}
