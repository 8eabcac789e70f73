/**
 * The command's exit codes:
 *
 *   0    done (for `share`: stopped by SIGINT/SIGTERM after sharing)
 *   1    the transfer failed: no providers, every path lost, a provider's
 *        fault, the node unreachable at start
 *   2    usage: a bad flag, a bad content id, a missing file
 *   130  interrupted by SIGINT (143 by SIGTERM) before the work was done
 */
import { ChiralError, isChiralError } from '@chiral/core'

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130
} as const

/** Bad input on the command line: a flag, an argument, a file. */
export class UsageError extends ChiralError {
  static override readonly code = 'usage'
}

/** Error codes that mean the command was called wrongly, not that a transfer failed. */
const USAGE_CODES = new Set([UsageError.code, 'invalid-content-id'])

/** 128 + the signal's number, as shells report a process a signal ended. */
export function signalExitCode (signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : EXIT.interrupted
}

/** The exit code for the error a command ended with; `interrupted` is the signal that stopped it, if one did. */
export function exitCodeOf (err: unknown, interrupted?: NodeJS.Signals): number {
  if (interrupted !== undefined) return signalExitCode(interrupted)
  if (isChiralError(err) && USAGE_CODES.has(err.code)) return EXIT.usage
  return EXIT.failed
}
