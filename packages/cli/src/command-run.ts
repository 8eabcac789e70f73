/**
 * What `share` and `get` have in common: flags → settings, a reporter, the
 * SIGINT/SIGTERM handling, a started peer whose events are reported, and one
 * place that turns the error a command ends with into an exit code and the
 * one `chiral: …` line.
 */
import { createPeer } from '@chiral/peer'
import { exitCodeOf } from './exit-codes.js'
import { codeOf, describeFailure } from './failure.js'
import { onInterrupt } from './interrupt.js'
import { outputMode, peerSettings } from './options.js'
import { createReporter } from './output.js'
import { reportPeerEvents } from './peer-reports.js'
import type { Interrupt } from './interrupt.js'
import type { PeerFlags, PeerSettings } from './options.js'
import type { Reporter } from './output.js'
import type { ChiralPeer } from '@chiral/peer'

export interface CommandContext {
  settings: PeerSettings
  reporter: Reporter
  interrupt: Interrupt
}

export interface RunOptions {
  /** Added to the line printed when a signal interrupted the command. */
  interruptedNote?: string
}

/** Runs a command's body; resolves with the exit code, never rejects. */
export async function runCommand (flags: PeerFlags, body: (context: CommandContext) => Promise<number>, options: RunOptions = {}): Promise<number> {
  const reporter = createReporter(outputMode(flags))
  const interrupt = onInterrupt()
  let signaling: string | undefined
  try {
    const settings = peerSettings(flags, process.env)
    signaling = settings.signaling
    return await body({ settings, reporter, interrupt })
  } catch (err) {
    const exitCode = exitCodeOf(err, interrupt.received)
    const what = describeFailure(err, signaling === undefined ? {} : { signaling })
    const note = options.interruptedNote === undefined ? '' : `; ${options.interruptedNote}`
    const message = interrupt.received === undefined ? what : `interrupted by ${interrupt.received}${note}`
    reporter.report({ event: 'error', code: interrupt.received === undefined ? codeOf(err) : 'interrupted', message, exitCode })
    return exitCode
  } finally {
    interrupt.dispose()
  }
}

/** Starts a peer, reports it, runs `use` with it and stops it (also when `use` throws). */
export async function withPeer<T> (context: CommandContext, command: 'share' | 'get', use: (peer: ChiralPeer<string>) => Promise<T>): Promise<T> {
  const { settings, reporter, interrupt } = context
  const peer = createPeer(settings.init)
  const unreport = reportPeerEvents(peer, reporter)
  let unfollow = (): void => {}
  try {
    await peer.start({ signal: interrupt.signal })
    reporter.report({ event: 'started', command, peerId: peer.peerId, signaling: settings.signaling, relays: peer.relays, reachability: peer.reachability })
    unfollow = followReachability(peer, reporter)
    return await use(peer)
  } finally {
    unfollow()
    await peer.stop()
    unreport()
  }
}

/** Reports each settled reachability (`public` / `private`) that differs from the last one reported. */
function followReachability (peer: ChiralPeer<string>, reporter: Reporter): () => void {
  const settled = (r: ChiralPeer<string>['reachability']): string | undefined => r.status === 'public' || r.status === 'private' ? JSON.stringify(r) : undefined
  let last = settled(peer.reachability)
  const listener = (e: CustomEvent<{ direct: ChiralPeer<string>['reachability'] }>): void => {
    const now = settled(e.detail.direct)
    if (now === undefined || now === last) return
    last = now
    reporter.report({ event: 'reachability', reachability: e.detail.direct })
  }
  peer.addEventListener('reachability', listener)
  return () => { peer.removeEventListener('reachability', listener) }
}
