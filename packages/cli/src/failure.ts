/**
 * The one line a failed command prints on stderr: what failed, in the
 * error's words, and its stable code (`chiral: … [no-providers]`).
 */
import { isChiralError } from '@chiral/core'

export interface FailureContext {
  /** The signaling URL the command used, named when the node cannot be reached. */
  signaling?: string
}

/** What failed, on one line, without the `chiral: ` prefix. */
export function describeFailure (err: unknown, context: FailureContext = {}): string {
  const message = oneLine(err instanceof Error ? err.message : String(err))
  if (!isChiralError(err)) return lowerFirst(message)
  const text = err.code === 'relay-lookup-failed' && context.signaling !== undefined
    ? `cannot reach the node at ${context.signaling}: ${lowerFirst(message)}`
    : lowerFirst(message)
  return err.code === 'usage' ? text : `${text} [${err.code}]`
}

/** `chiral: <message>` on stderr. */
export function writeFailure (stderr: NodeJS.WritableStream, message: string): void {
  stderr.write(`chiral: ${message}\n`)
}

/** The error's code (`error` for errors without one). */
export function codeOf (err: unknown): string {
  return isChiralError(err) ? err.code : 'error'
}

function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** `Cannot ask …` → `cannot ask …`, leaving acronyms (`NAT …`) alone. */
function lowerFirst (text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text
}
