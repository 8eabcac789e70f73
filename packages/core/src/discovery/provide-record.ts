import { waitForOwnAddresses } from '../presets/wait-for-relay.js'
import { AnnounceFailedError } from './errors.js'
import { sleep } from './sleep.js'
import type { AbortOptions } from '../contracts/abort.js'
import type { Libp2p } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** Delay before the first retry of a provide that reached no DHT server, ms; it doubles up to {@link MAX_RETRY_DELAY}. */
export const FIRST_RETRY_DELAY = 250
export const MAX_RETRY_DELAY = 4000

/** What one provide attempt achieved. */
export interface ProvideOutcome {
  /** DHT servers that were sent the ADD_PROVIDER message. */
  servers: number
  /** Addresses of this node when the record was made (the record carries them). */
  addresses: number
}

/**
 * Resolves once the node has at least one address to put in a provider
 * record. kad-dht reads the node's addresses when `provide()` is called and a
 * DHT server drops a record without addresses (while the provide still
 * "succeeds"): a node that listens only on `/p2p-circuit` (a browser, a peer
 * behind NAT) has none until its first relay reservation.
 */
export async function waitForAddresses (node: Libp2p, options: AbortOptions = {}): Promise<void> {
  await waitForOwnAddresses(node, (n) => n.getMultiaddrs(), options, 'The node had no address before the signal fired')
}

/** One DHT provide; counts the DHT servers the record was sent to. */
export async function provideOnce (node: Libp2p, cid: CID, options: AbortOptions = {}): Promise<ProvideOutcome> {
  let servers = 0
  const addresses = node.getMultiaddrs().length
  await node.contentRouting.provide(cid, {
    signal: options.signal,
    onProgress: (evt: CustomEvent<{ messageName?: string }>) => {
      if (evt.type === 'kad-dht:query:peer-response' && evt.detail.messageName === 'ADD_PROVIDER') servers++
    }
  } as AbortOptions)
  return { servers, addresses }
}

/**
 * Provides `cid` on the DHT and resolves once at least one DHT server was
 * sent a record that carries this node's addresses. Waits for the node's
 * first address, and tries again (with a growing pause) while a provide
 * reaches no DHT server, until the signal fires; then `AnnounceFailedError`.
 * Resolves with the number of DHT servers that got the record.
 */
export async function provideRecord (node: Libp2p, cid: CID, options: AbortOptions & { signal: AbortSignal }): Promise<number> {
  const { signal } = options
  let lastProblem = ''
  let delay = FIRST_RETRY_DELAY
  try {
    for (;;) {
      lastProblem = 'the node has no address yet (no relay reservation?)'
      await waitForAddresses(node, { signal })
      lastProblem = 'no DHT server was reached'
      const outcome = await provideOnce(node, cid, { signal })
      if (outcome.servers > 0 && outcome.addresses > 0) return outcome.servers
      if (outcome.addresses === 0) lastProblem = 'the node had no address when the record was made'
      await sleep(delay, signal)
      delay = Math.min(delay * 2, MAX_RETRY_DELAY)
    }
  } catch (err) {
    if (!signal.aborted) throw err
    throw new AnnounceFailedError(`Could not announce ${cid.toString()}: ${lastProblem}`, { cause: err })
  }
}
