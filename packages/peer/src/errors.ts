import { ChiralError } from '@chiral/core'

/** `start()` got no relay reservation in time: nobody could reach this peer through the relay. */
export class RelayUnreachableError extends ChiralError {
  static override readonly code = 'relay-unreachable'
}

export { RelayLookupError } from './relay-discovery.js'
