import { ChiralError } from '../errors.js'

/**
 * An announce could not hand its provider record to any DHT server before
 * its time limit: the node had no address to put in the record (e.g. no
 * relay reservation yet), or no DHT server took the record.
 */
export class AnnounceFailedError extends ChiralError {
  static override readonly code = 'announce-failed'
}
