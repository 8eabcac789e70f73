/**
 * SIGINT / SIGTERM while a command runs: the first one aborts the command's
 * signal (a fetch stops, keeping its `.part` for a re-run; `share` stops
 * serving), the second one exits at once.
 */
export interface Interrupt {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal
  /** The signal that arrived, if one did. */
  readonly received: NodeJS.Signals | undefined
  /** Resolves with the first signal. */
  wait(): Promise<NodeJS.Signals>
  /** Removes the handlers. */
  dispose(): void
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

export function onInterrupt (): Interrupt {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const waiters: Array<(s: NodeJS.Signals) => void> = []
  const handler = (sig: NodeJS.Signals): void => {
    if (received !== undefined) process.exit(sig === 'SIGTERM' ? 143 : 130)
    received = sig
    controller.abort(new Error(`Interrupted by ${sig}`))
    for (const w of waiters.splice(0)) w(sig)
  }
  for (const s of SIGNALS) process.on(s, handler)
  return {
    signal: controller.signal,
    get received () { return received },
    async wait () {
      if (received !== undefined) return received
      return new Promise((resolve) => { waiters.push(resolve) })
    },
    dispose () {
      for (const s of SIGNALS) process.off(s, handler)
    }
  }
}
