import { AbortError, throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../contracts/abort.js'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The node's own relay circuit addresses (`…/p2p-circuit/p2p/<self>`). */
export function relayAddresses (node: Libp2p): Multiaddr[] {
  return node.getMultiaddrs().filter((ma) => ma.getComponents().some((c) => c.name === 'p2p-circuit'))
}

/**
 * Resolves with the node's relay circuit addresses once it holds at least one
 * relay reservation. Rejects with `AbortError` when the signal fires first.
 */
export async function waitForRelayReservation (node: Libp2p, options: AbortOptions = {}): Promise<Multiaddr[]> {
  return waitForOwnAddresses(node, relayAddresses, options, 'No relay reservation before the signal fired')
}

/**
 * Resolves with `pick(node)` as soon as it is not empty, checking again on
 * every change of the node's own addresses. Rejects with `AbortError`
 * (`abortMessage`) when the signal fires first.
 */
export async function waitForOwnAddresses (node: Libp2p, pick: (node: Libp2p) => Multiaddr[], options: AbortOptions, abortMessage: string): Promise<Multiaddr[]> {
  throwIfAborted(options.signal)
  const now = pick(node)
  if (now.length > 0) return now
  return new Promise<Multiaddr[]>((resolve, reject) => {
    const onUpdate = (): void => {
      const addrs = pick(node)
      if (addrs.length > 0) {
        cleanup()
        resolve(addrs)
      }
    }
    const onAbort = (): void => {
      cleanup()
      reject(new AbortError(abortMessage, { cause: options.signal?.reason }))
    }
    const cleanup = (): void => {
      node.removeEventListener('self:peer:update', onUpdate)
      options.signal?.removeEventListener('abort', onAbort)
    }
    node.addEventListener('self:peer:update', onUpdate)
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}
