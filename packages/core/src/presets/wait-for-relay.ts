import { AbortError, ReservationRefusedError, throwIfAborted } from '../errors.js'
import { keptPeers } from './relay-keeper.js'
import { RELAY_REFUSED_EVENT } from './relay-refusals.js'
import type { RelayRefusal, RelayRefusals } from './relay-refusals.js'
import type { AbortOptions } from '../contracts/abort.js'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The node's own relay circuit addresses (`…/p2p-circuit/p2p/<self>`). */
export function relayAddresses (node: Libp2p): Multiaddr[] {
  return node.getMultiaddrs().filter((ma) => ma.getComponents().some((c) => c.name === 'p2p-circuit'))
}

/**
 * Resolves with the node's relay circuit addresses once it holds at least one
 * relay reservation. Rejects with `ReservationRefusedError`
 * (`reservation-refused`) as soon as every relay the node keeps a connection
 * to has refused it a reservation (for a node made by `createNode`; with no
 * configured relays, the first refusal), and with `AbortError` when the
 * signal fires first.
 */
export async function waitForRelayReservation (node: Libp2p, options: AbortOptions = {}): Promise<Multiaddr[]> {
  return waitForOwnAddresses(node, relayAddresses, options, 'No relay reservation before the signal fired', {
    event: RELAY_REFUSED_EVENT,
    failure: () => refusedEverywhere(node)
  })
}

/** What a relay's status means, for error messages. */
const STATUS_MEANING: Record<string, string> = {
  RESERVATION_REFUSED: 'the relay has no free reservation slot',
  PERMISSION_DENIED: 'the relay does not let this peer reserve (e.g. too many reservations from its address)',
  RESOURCE_LIMIT_EXCEEDED: 'the relay is out of resources'
}

/** A `ReservationRefusedError` when every relay of the node has refused it (and it holds no reservation). */
function refusedEverywhere (node: Libp2p): Error | undefined {
  const service = (node.services as Record<string, unknown>).relayRefusals as RelayRefusals | undefined
  if (typeof service?.current !== 'function') return undefined
  const refusals = service.current()
  if (refusals.length === 0) return undefined
  const relays = keptPeers(node as unknown as { services: Record<string, unknown> }).map((p) => p.peerId)
  const byRelay = new Map(refusals.map((r) => [r.relay, r]))
  const relevant: RelayRefusal[] = relays.length === 0 ? refusals : relays.map((id) => byRelay.get(id)).filter((r): r is RelayRefusal => r !== undefined)
  if (relevant.length === 0 || relevant.length < relays.length) return undefined
  const text = relevant.map((r) => `${r.relay} answered ${r.status} (${STATUS_MEANING[r.status] ?? 'refused'})`).join('; ')
  return new ReservationRefusedError(`Relay reservation refused: ${text}`, relevant.map(({ relay, status }) => ({ relay, status })))
}

/** How often `waitForOwnAddresses` looks again without an event, ms (libp2p's own address debounce). */
const RECHECK_INTERVAL = 1000

/**
 * Resolves with `pick(node)` as soon as it is not empty, checking again on
 * every change of the node's own addresses. Rejects with `AbortError`
 * (`abortMessage`) when the signal fires first.
 *
 * `self:peer:update` alone can miss an address: libp2p writes the node's
 * addresses to its peer store through a 1 s debounce and fires the event
 * only when the stored set changed. A relay reservation lost and made again
 * within that second (the relay restarted, or its connection dropped and came
 * back) gives the same circuit address as before, so no event fires, while
 * `getMultiaddrs()` (computed live) was empty in between. Hence also a
 * periodic look, as often as libp2p's debounce would have told (looking
 * sooner, e.g. on `transport:listening`, makes fresh peers hurry to the
 * relay faster than its 5 connections per second and host allow).
 *
 * With `fail`, `fail.failure()` is also asked at each look and on every
 * `fail.event` on the node; an error it returns rejects the wait.
 */
export async function waitForOwnAddresses (node: Libp2p, pick: (node: Libp2p) => Multiaddr[], options: AbortOptions, abortMessage: string, fail?: { event: string, failure: () => Error | undefined }): Promise<Multiaddr[]> {
  throwIfAborted(options.signal)
  const now = pick(node)
  if (now.length > 0) return now
  const failed = fail?.failure()
  if (failed !== undefined) throw failed
  const target = node as unknown as EventTarget
  return new Promise<Multiaddr[]>((resolve, reject) => {
    const check = (): void => {
      const addrs = pick(node)
      if (addrs.length > 0) {
        cleanup()
        resolve(addrs)
        return
      }
      const err = fail?.failure()
      if (err !== undefined) {
        cleanup()
        reject(err)
      }
    }
    const onAbort = (): void => {
      cleanup()
      reject(new AbortError(abortMessage, { cause: options.signal?.reason }))
    }
    const timer = setInterval(check, RECHECK_INTERVAL)
    // the look must not keep a process alive that has nothing else to do
    timer.unref?.()
    const cleanup = (): void => {
      clearInterval(timer)
      node.removeEventListener('self:peer:update', check)
      if (fail !== undefined) target.removeEventListener(fail.event, check)
      options.signal?.removeEventListener('abort', onAbort)
    }
    node.addEventListener('self:peer:update', check)
    if (fail !== undefined) target.addEventListener(fail.event, check)
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}
