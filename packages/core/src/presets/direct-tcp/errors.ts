import { ChiralError } from '../../errors.js'

/** A DCUtR exchange or its TCP hole punch did not give a direct connection. */
export class HolePunchFailedError extends ChiralError {
  static override readonly code = 'hole-punch-failed'
}
